// Generate and optimize jobs: the server's command run with a progress notification that names the stage and
// the model (the server reports on a token this side chose) and whose Cancel button cancels the request.
import { randomUUID } from "node:crypto";
import * as vscode from "vscode";
import { ExecuteCommandRequest, type LanguageClient } from "vscode-languageclient/node";
import { PROGRESS, type PerfOrchClient } from "./client";

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
  speedup?: number | null;
  tokens?: number;
  cost_usd?: number;
  summary?: string; // one line about the run, written by the engine
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
  readonly onDidReport = this.progressEmitter.event; // each progress message, as shown
  readonly onDidFinish = this.doneEmitter.event;

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
    const job: RunningJob = { token: `perforch-${randomUUID()}`, kind, uri: String(args[0]), cancel: new vscode.CancellationTokenSource() };
    this.running.set(job.token, job);
    void this.updateContext();
    let result: JobResult;
    try {
      result = await this.request(client, job, args);
    } catch (error) {
      result = { status: "error", message: String(error) };
      void vscode.window.showErrorMessage(`PerfOrch ${kind} failed: ${String(error)}`);
    } finally {
      this.running.delete(job.token);
      job.cancel.dispose();
      void this.updateContext();
    }
    await this.finish(result);
    return result;
  }

  /** The server's command, with a cancellable notification that shows the progress reported on the job's token. */
  private request(client: LanguageClient, job: RunningJob, args: unknown[]): Thenable<JobResult> {
    const options = { location: vscode.ProgressLocation.Notification, title: `PerfOrch ${job.kind}`, cancellable: true };
    return vscode.window.withProgress(options, async (progress, cancelled) => {
      cancelled.onCancellationRequested(() => job.cancel.cancel());
      const shown = (message: string) => {
        progress.report({ message });
        this.progressEmitter.fire(message);
      };
      shown("starting…");
      const listener = client.onNotification(PROGRESS, (event: JobProgress) => {
        if (event.token === job.token) {
          shown(`${event.function}: ${event.message}`);
        }
      });
      try {
        const params = { command: `perforch.${job.kind}`, arguments: args, workDoneToken: job.token };
        return (await client.sendRequest(ExecuteCommandRequest.type, params, job.cancel.token)) as JobResult;
      } catch (error) {
        if (job.cancel.token.isCancellationRequested) {
          return { status: "cancelled" } as JobResult;
        }
        throw error;
      } finally {
        listener.dispose();
      }
    });
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
  }

  private async finish(result: JobResult): Promise<void> {
    if (result.status === "cancelled") {
      void vscode.window.showInformationMessage("PerfOrch: cancelled; nothing was changed.");
    }
    // "refused" and "error" answers were already shown by the server as messages.
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
