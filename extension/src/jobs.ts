// Generate and optimize jobs: the server's command run with a progress notification that names the stage and
// the model (the server reports on a token this side chose) and whose Cancel button cancels the request.
import { randomUUID } from "node:crypto";
import * as vscode from "vscode";
import { ExecuteCommandRequest, type LanguageClient } from "vscode-languageclient/node";
import { PROGRESS, PROPOSAL, type PerfOrchClient } from "./client";

export type Kind = "generate" | "optimize";

/** What perforch.generate/optimize answer (server/proposals.py `answer`: the engine's Proposal.report). */
export interface JobResult {
  status: "done" | "cancelled" | "refused" | "error";
  message?: string;
  job?: string;
  id?: string | null; // the proposal, when the job changed something
  uri?: string;
  version?: number | null;
  edit?: WorkspaceEditJson | null;
  kind?: Kind;
  function?: string;
  language?: string;
  category?: string;
  passed?: boolean;
  models?: Record<string, string>;
  tests?: { run: number | null; passed: number | null; source: string };
  failure?: string;
  cause?: Cause | null; // why nothing passed (orchestration/failure.py), or why the job was refused
  speedup?: number | null; // only when the proposal is faster
  cpu_seconds?: [number, number] | null; // the tests' CPU time before and after, with a speed-up
  tokens?: number;
  cost_usd?: number;
  unpriced?: string[]; // models that answered without a known price: cost_usd leaves them out
  seconds?: number; // the job's elapsed time
  trace?: TraceStep[];
  summary?: string; // one line about the run, written by the engine
  refining?: boolean; // an offer (perforch/proposal): the job goes on looking for a faster version
  offered?: string | null; // cancelled: the offer still waiting
  accepted?: boolean; // cancelled after the user accepted an offer
  rejected?: boolean; // cancelled because the user rejected its offer
}

export interface Cause {
  kind: string; // missing_key, a model error kind (auth, unreachable, ...), or a candidate's outcome
  message: string;
  stage: string;
  model: string;
  output: string;
  candidate: string | null;
  keys?: string[]; // the variables to set (missing_key, auth)
}

export interface TraceStep {
  stage: string;
  model: string;
  attempt: number;
  status: string;
  detail: string;
  seconds: number;
  tokens: number;
  cost_usd: number | null; // null: unpriced
}

/** perforch/progress (server/jobs.py): one engine event as fields, with the line every client shows for it.
 * Status "starting" with an empty stage is the job's own start. */
export interface JobProgress {
  token: string;
  job: string;
  kind: Kind;
  function: string;
  stage: string;
  model: string;
  attempt: number;
  status: string;
  detail: string;
  message: string;
}

export interface TextEditJson {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  newText: string;
}

export interface WorkspaceEditJson {
  changes?: Record<string, TextEditJson[]>;
  documentChanges?: { textDocument: { uri: string }; edits: TextEditJson[] }[];
}

interface RunningJob {
  token: string;
  kind: Kind;
  uri: string;
  cancel: vscode.CancellationTokenSource;
}

export class JobRunner implements vscode.Disposable {
  private readonly running = new Map<string, RunningJob>();
  private readonly progressEmitter = new vscode.EventEmitter<string>();
  private readonly doneEmitter = new vscode.EventEmitter<JobResult>();
  private readonly offerEmitter = new vscode.EventEmitter<JobResult>();
  readonly onDidReport = this.progressEmitter.event; // each progress message, as shown
  readonly onDidFinish = this.doneEmitter.event;
  readonly onDidOffer = this.offerEmitter.event; // a version to preview while its job still refines
  private readonly starting = new vscode.EventEmitter<Kind>();
  readonly onDidStart = this.starting.event;
  private lastRun: { kind: Kind; args: unknown[] } | undefined;

  constructor(
    private readonly client: PerfOrchClient,
    private readonly afterJob: (result: JobResult) => Promise<void>, // the preview, awaited before run() returns
  ) {}

  /** The job for the function under the cursor. */
  async atCursor(kind: Kind): Promise<JobResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showWarningMessage(`PerfOrch: open a file and put the cursor in a function to ${kind} it.`);
      return undefined;
    }
    const { document, selection } = editor;
    return this.run(kind, [document.uri.toString(), { line: selection.active.line, character: 0 }, document.version]);
  }

  /** perforch.generate/optimize from the lightbulb (the client's middleware sends them here). */
  fromServerCommand(command: string, args: unknown[]): Promise<JobResult | undefined> {
    return this.run(command === "perforch.generate" ? "generate" : "optimize", args);
  }

  async run(kind: Kind, args: unknown[]): Promise<JobResult | undefined> {
    let client;
    try {
      client = this.client.running();
    } catch (error) {
      void vscode.window.showErrorMessage(`PerfOrch: ${(error as Error).message}`);
      return undefined;
    }
    this.lastRun = { kind, args };
    this.starting.fire(kind);
    const job: RunningJob = { token: `perforch-${randomUUID()}`, kind, uri: String(args[0]), cancel: new vscode.CancellationTokenSource() };
    this.running.set(job.token, job);
    void this.updateContext();
    let result: JobResult;
    try {
      result = await this.request(client, job, args);
    } catch (error) {
      result = { status: "error", kind, message: `${kind} failed: ${(error as Error).message ?? String(error)}` };
    } finally {
      this.running.delete(job.token);
      job.cancel.dispose();
      void this.updateContext();
    }
    result.kind ??= kind; // a refusal names neither
    await this.finish(result);
    return result;
  }

  /** The server's command, with a cancellable notification that shows the progress reported on the job's token:
   * the step (of the stages this kind of job runs), the model, what happened last, and the time elapsed. */
  private request(client: LanguageClient, job: RunningJob, args: unknown[]): Thenable<JobResult> {
    const options = { location: vscode.ProgressLocation.Notification, title: `PerfOrch ${job.kind}`, cancellable: true };
    return vscode.window.withProgress(options, async (progress, cancelled) => {
      let finished = false; // VS Code may cancel the token as the notification closes: not a cancel then
      cancelled.onCancellationRequested(() => finished || job.cancel.cancel());
      const started = Date.now();
      let last = "starting…";
      const shown = (message: string) => {
        last = message;
        const line = `${message} · ${Math.round((Date.now() - started) / 1000)} s`;
        progress.report({ message: line });
        this.progressEmitter.fire(line);
      };
      shown(last);
      const ticker = setInterval(() => shown(last), 1000);
      const listener = client.onNotification(PROGRESS, (event: JobProgress) => {
        if (event.token === job.token) {
          shown(`${event.function}: ${progressLine(job.kind, event)}`);
        }
      });
      const offers = client.onNotification(PROPOSAL, (offer: JobResult & { token: string }) => {
        if (offer.token === job.token) {
          const what = offer.speedup ? `a ${offer.speedup.toFixed(2)}x faster version` : "a passing version";
          shown(`${offer.function}: ${what} is ready to review; still refining`);
          this.offerEmitter.fire({ ...offer, status: "done", kind: job.kind });
        }
      });
      try {
        const params = { command: `perforch.${job.kind}`, arguments: args, workDoneToken: job.token };
        return (await client.sendRequest(ExecuteCommandRequest.type, params, job.cancel.token)) as JobResult;
      } catch (error) {
        if (job.cancel.token.isCancellationRequested) {
          return { status: "cancelled", kind: job.kind } as JobResult;
        }
        throw error;
      } finally {
        finished = true;
        clearInterval(ticker);
        listener.dispose();
        offers.dispose();
      }
    });
  }

  /** Run the last job again (a failure's Retry). */
  async retry(): Promise<JobResult | undefined> {
    return this.lastRun ? this.run(this.lastRun.kind, this.lastRun.args) : undefined;
  }

  /** Cancel every running job (normally there is one); true when there was one. */
  cancelAll(): boolean {
    for (const job of this.running.values()) {
      job.cancel.cancel();
    }
    return this.running.size > 0;
  }

  dispose(): void {
    this.cancelAll();
    this.progressEmitter.dispose();
    this.doneEmitter.dispose();
    this.offerEmitter.dispose();
    this.starting.dispose();
  }

  private async finish(result: JobResult): Promise<void> {
    if (result.status === "cancelled" && !result.rejected) {
      void vscode.window.showInformationMessage(`PerfOrch: ${cancelled(result)}`);
    }
    try {
      await this.afterJob(result);
    } finally {
      this.doneEmitter.fire(result);
    }
  }

  private updateContext(): Thenable<unknown> {
    return vscode.commands.executeCommand("setContext", "perforch.jobRunning", this.running.size > 0);
  }
}

// The stages each kind of job goes through, in order (debug only when the first answers fail).
const STAGES: Record<Kind, string[]> = {
  generate: ["categorize", "generate", "debug", "refine"],
  optimize: ["validate", "categorize", "refine"],
};

/** One progress event as a line: `step 2 of 4, generate (writer): started`. */
export function progressLine(kind: Kind, event: JobProgress): string {
  const stages = STAGES[kind];
  const index = stages.indexOf(event.stage);
  const step = index >= 0 ? `step ${index + 1} of ${stages.length}, ` : "";
  const model = event.model ? ` (${event.model})` : "";
  if (event.status === "measuring" && event.detail) {
    return `${step}${event.stage}${model}: ${event.detail}`; // `timing the original, run 3 of 5`
  }
  const status = event.status === "started" ? "asking the model" : event.status.replace(/_/g, " ");
  const detail = event.detail ? `: ${event.detail}` : "";
  return event.stage ? `${step}${event.stage}${model}: ${status}${detail}` : event.message;
}

/** What a cancel left: nothing changed, or the version the user accepted, or an offer still to decide. */
export function cancelled(result: JobResult): string {
  if (result.offered) {
    return "refinement cancelled; the passing version offered stays open to accept or reject.";
  }
  if (result.accepted) {
    return "refinement cancelled; the version you accepted stays.";
  }
  return result.rejected ? "the offered version was rejected; the job stopped and nothing was changed." : "cancelled; nothing was changed.";
}
