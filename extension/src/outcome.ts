// What a finished job tells the user: the run in the output channel (the server logs every step there: stage,
// model, status, time, tokens, cost; this adds the facts and the failing step's output); a failure as a message naming its cause with the action that fixes it
// (Set key, Retry, Show failing candidate, Open perforch.toml, Show log); and the result in a status-bar item
// that stays until the next job or until its proposal is accepted or rejected.
import * as path from "node:path";
import * as vscode from "vscode";
import { type Cause, type JobResult, cancelled } from "./jobs";

export const CANDIDATE_SCHEME = "perforch-candidate";
const MODEL_UNREACHABLE = new Set(["unreachable", "timeout", "server_error", "rate_limited", "empty_answer"]);
const KEY_PROBLEMS = new Set(["missing_key", "auth"]);
const CANDIDATE_FAILURES = new Set(["compile_error", "test_failed", "resource_limit", "invalid"]);

/** What the user may do about a failure; the extension wires each to its command. */
export interface FailureActions {
  setKey(name: string | undefined): Promise<unknown>;
  retry(): Promise<unknown>;
  openConfig(file: string | undefined): Promise<unknown>;
}

/** One shown failure: its text and the buttons offered (the tests read it). */
export interface ShownFailure {
  message: string;
  actions: string[];
}

export class Outcomes implements vscode.TextDocumentContentProvider, vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem("perforch.result", vscode.StatusBarAlignment.Left, 10);
  private readonly candidates = new Map<string, string>(); // job -> the failing candidate's file text
  private readonly shownEmitter = new vscode.EventEmitter<ShownFailure>();
  readonly onDidShowFailure = this.shownEmitter.event;
  last: JobResult | undefined;

  constructor(private readonly output: vscode.LogOutputChannel) {
    this.item.name = "PerfOrch result";
    this.item.command = "perforch.showLastResult";
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.candidates.get(uri.query) ?? "";
  }

  /** A job is starting: the previous result's item goes. */
  clear(): void {
    this.item.hide();
  }

  /** Log the run, and show what failed and what to do about it. Success is the preview's to show. */
  async report(result: JobResult, actions: FailureActions): Promise<void> {
    this.last = result;
    this.log(result);
    if (result.status === "cancelled" || result.status === "done" && result.passed) {
      this.showResult(result);
      return;
    }
    if (result.status === "done") {
      this.showResult(result);
    } else {
      this.item.hide();
    }
    await this.showFailure(result, actions);
  }

  /** The result item: kept until the next job, or until the proposal is decided (then `decided`). */
  showResult(result: JobResult): void {
    if (result.status === "cancelled") {
      this.item.hide();
      return;
    }
    const facts = factsOf(result);
    this.item.text = `${result.passed ? "$(pass)" : "$(error)"} PerfOrch: ${facts.short}`;
    this.item.tooltip = new vscode.MarkdownString(facts.long.join("\n\n"));
    this.item.backgroundColor = result.passed ? undefined : new vscode.ThemeColor("statusBarItem.errorBackground");
    this.item.show();
  }

  /** A version offered while its job refines: the item says so until the job is done. */
  offered(result: JobResult): void {
    const what = result.speedup ? `${result.speedup.toFixed(2)}x faster version` : "passing version";
    this.item.text = `$(sync~spin) PerfOrch: ${result.kind} ${result.function} · ${what} · still refining`;
    this.item.tooltip = new vscode.MarkdownString([...factsOf(result).long, "Still refining: a faster version, if found, replaces this one."].join("\n\n"));
    this.item.backgroundColor = undefined;
    this.item.show();
  }

  decided(accepted: boolean, result: JobResult | undefined = this.last): void {
    if (!result) {
      return;
    }
    const refining = result.refining ? " · still refining" : "";
    this.item.text = `$(${accepted ? "check" : "close"}) PerfOrch: ${accepted ? "accepted" : "rejected"} · ${factsOf(result).short}${refining}`;
  }

  /** The failure's message, with the fix as a button; sticky (an error with actions stays until dismissed). */
  private async showFailure(result: JobResult, actions: FailureActions): Promise<void> {
    const cause = result.cause ?? undefined;
    const what = result.function ? `${result.kind} \`${result.function}\`` : result.kind ?? "job";
    let message: string;
    const buttons: string[] = [];
    if (result.status === "refused" && !cause) {
      message = `PerfOrch: ${result.message ?? "refused"}`;
      if (/perforch\.toml/.test(result.message ?? "")) {
        buttons.push("Open perforch.toml");
      }
      this.shown(message, buttons);
      const choice = await vscode.window.showWarningMessage(message, ...buttons);
      if (choice === "Open perforch.toml") {
        await actions.openConfig(configFileIn(result.message ?? ""));
      }
      return;
    }
    if (result.status === "error") {
      message = `PerfOrch: ${result.message ?? "the job failed"}`;
      buttons.push("Show log");
    } else if (cause && KEY_PROBLEMS.has(cause.kind)) {
      const key = cause.keys?.[0];
      message = cause.kind === "missing_key"
        ? `PerfOrch ${what}: ${key ? `the API key ${key} is not set` : cause.message}. Set it and run again.`
        : `PerfOrch ${what}: ${cause.message}. The provider refused the key${key ? ` in ${key}` : ""}: set it again.`;
      buttons.push("Set key", "Show log");
    } else if (cause && (CANDIDATE_FAILURES.has(cause.kind) || cause.candidate)) {
      message = `PerfOrch ${what}: no version passed the tests. ${cause.message}`;
      if (cause.candidate) {
        buttons.push("Show failing candidate");
      }
      buttons.push("Retry", "Show log");
    } else if (cause && MODEL_UNREACHABLE.has(cause.kind)) {
      message = `PerfOrch ${what}: ${cause.message}`;
      buttons.push("Retry", "Show log");
    } else {
      message = `PerfOrch ${what}: ${cause?.message ?? result.summary ?? "nothing to apply"}`;
      buttons.push("Show log");
    }
    this.shown(message, buttons);
    const choice = await vscode.window.showErrorMessage(message, ...buttons);
    if (choice === "Set key") {
      await actions.setKey(cause?.keys?.[0]);
    } else if (choice === "Retry") {
      await actions.retry();
    } else if (choice === "Show failing candidate") {
      await this.showCandidate(result);
    } else if (choice === "Show log") {
      this.output.show(true);
    }
  }

  private shown(message: string, actions: string[]): void {
    this.output.warn(`${message} [${actions.join(", ")}]`);
    this.shownEmitter.fire({ message, actions });
  }

  /** The failing candidate beside the file, as a diff; the compiler's or tests' output in the output channel. */
  async showCandidate(result: JobResult | undefined = this.last): Promise<boolean> {
    const cause = result?.cause;
    if (!result?.uri || !cause?.candidate) {
      void vscode.window.showInformationMessage("PerfOrch: the last job left no failing candidate to show.");
      return false;
    }
    const id = result.job ?? String(Date.now());
    this.candidates.set(id, cause.candidate);
    const file = vscode.Uri.parse(result.uri);
    const view = file.with({ scheme: CANDIDATE_SCHEME, query: id });
    this.output.appendLine(`PerfOrch: ${cause.model || "the candidate"} failed the tests (${cause.kind}); their output:`);
    this.output.appendLine(cause.output || "(no output)");
    this.output.show(true);
    const title = `${path.basename(file.fsPath)} ↔ failing candidate (${cause.model}: ${cause.kind.replace("_", " ")})`;
    await vscode.commands.executeCommand("vscode.diff", file, view, title, { preview: false });
    return true;
  }

  /** The run, as a summary and one line per step. */
  private log(result: JobResult): void {
    if (result.status === "cancelled") {
      this.output.info(`PerfOrch ${result.kind ?? "job"}: ${cancelled(result)}`);
      return;
    }
    if (result.status !== "done") {
      this.output.info(`PerfOrch ${result.kind ?? "job"} ${result.status}: ${result.message ?? ""}`);
      return;
    }
    // Each step (stage, model, status, time, tokens, cost) is in the server's log just above, in this channel.
    const facts = factsOf(result);
    this.output.info(`PerfOrch ${result.kind} \`${result.function}\`: ${facts.long.slice(1).join("; ")}`);
    if (result.cause?.output) {
      this.output.info(`  output of the failing step:\n${result.cause.output}`);
    }
  }

  dispose(): void {
    this.item.dispose();
    this.shownEmitter.dispose();
  }
}

/** The result's facts: a short line for the status bar, and full lines for its tooltip and the log. */
export function factsOf(result: JobResult): { short: string; long: string[] } {
  const tests = result.tests?.run !== null && result.tests?.run !== undefined ? `tests ${result.tests.passed}/${result.tests.run} passed` : result.passed ? "passed" : "failed";
  const seconds = result.seconds !== undefined ? `${result.seconds.toFixed(1)} s` : "";
  const cost = costOf(result);
  const models = Object.entries(result.models ?? {}).map(([stage, model]) => `${stage}: ${model}`).join(", ") || "no model";
  const speed = result.speedup && result.cpu_seconds
    ? `${result.speedup.toFixed(2)}x faster (measured ${ms(result.cpu_seconds[0])} → ${ms(result.cpu_seconds[1])})`
    : "";
  const outcome = result.passed ? tests : `failed: ${result.cause?.message ?? "nothing passed"}`;
  const short = [result.function ? `${result.kind} ${result.function}` : result.kind, result.passed ? tests : "failed", speed ? `${result.speedup?.toFixed(2)}x` : "", seconds, `${result.tokens ?? 0} tokens`, cost]
    .filter(Boolean)
    .join(" · ");
  const long = [
    `**PerfOrch ${result.kind} \`${result.function}\`**: ${outcome}`,
    `models: ${models}`,
    ...(speed ? [`speed-up: ${speed}`] : []),
    `elapsed ${seconds || "?"}, ${result.tokens ?? 0} tokens, cost ${cost}`,
  ];
  return { short, long };
}

function costOf(result: JobResult): string {
  const unpriced = result.unpriced ?? [];
  const priced = (result.trace ?? []).some((step) => step.status === "answered" && step.cost_usd !== null && step.cost_usd !== undefined);
  if (unpriced.length && !priced) {
    return "unpriced";
  }
  const money = `$${(result.cost_usd ?? 0).toFixed(4)}`;
  return unpriced.length ? `${money} + unpriced (${unpriced.join(", ")})` : money;
}

function ms(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

/** The perforch.toml a config error names, if any: `/path/perforch.toml:3: invalid TOML ...`. */
export function configFileIn(message: string): string | undefined {
  return /(\/[^\s:]*perforch\.toml)/.exec(message)?.[1];
}
