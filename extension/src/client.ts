// The language client: starts `perforch serve` over stdio with the chosen interpreter and the stored API keys,
// passes the perforch.* settings the server knows, and hands the server's generate/optimize commands (from the
// lightbulb) to the extension's own job runner, which shows progress and a preview.
import * as vscode from "vscode";
import {
  type ClientCapabilities,
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  type ErrorHandler,
  type FeatureState,
  LanguageClient,
  type LanguageClientOptions,
  type ServerCapabilities,
  type ServerOptions,
  State,
  type StaticFeature,
} from "vscode-languageclient/node";
import { checkInstalled, chooseInterpreter } from "./interpreter";
import type { ApiKeys } from "./keys";

export const PROGRESS = "perforch/progress"; // the server's structured progress (jobs.ts: JobProgress)
export const PROPOSAL = "perforch/proposal"; // a version offered while its job still refines (server/offers.py)
export const JOB_COMMANDS = new Set(["perforch.generate", "perforch.optimize"]);
// Settings the server reads; the rest (pythonPath) are the client's own. applyPrompt is off: the diff preview
// here replaces the server's "Apply?" question.
const SERVER_SETTINGS = ["configFile", "profile", "logLevel", "maxJobs", "models", "pipeline"];
const RESTARTS = 4; // crashes within RESTART_WINDOW before the client gives up and says so
const RESTART_WINDOW_MS = 3 * 60 * 1000;

export type JobCommand = (command: string, args: unknown[]) => Promise<unknown>;

export function serverSettings(resource?: vscode.Uri): Record<string, unknown> {
  const section = vscode.workspace.getConfiguration("perforch", resource);
  const settings: Record<string, unknown> = { applyPrompt: false };
  for (const key of SERVER_SETTINGS) {
    const inspected = section.inspect(key);
    const value = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    if (value !== undefined) {
      settings[key] = value; // only what the user set: the server's defaults are the engine's
    }
  }
  return settings;
}

/** The languages the manifest activates the extension on (`onLanguage:<id>` activation events). VS Code reads
 * them before any code runs, so this is the one list that cannot come from the server; the client syncs these
 * documents, and they stand for the server's list until it has told its own. */
export function manifestLanguages(manifest: { activationEvents?: string[] }): string[] {
  const prefix = "onLanguage:";
  return (manifest.activationEvents ?? []).filter((event) => event.startsWith(prefix)).map((event) => event.slice(prefix.length));
}

/** What this client and the PerfOrch server tell each other in `initialize`, beyond LSP: the client takes
 * structured progress (perforch/progress) and versions offered while a job refines (perforch/proposal), and
 * shows jobs' outcomes itself (with its own actions, so the server shows no message of its own); the server
 * names the languages it works on. */
class PerfOrchCapabilities implements StaticFeature {
  constructor(private readonly learned: (languages: string[]) => void) {}

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.experimental = { ...(capabilities.experimental as object | undefined), perforch: { progress: true, results: true, proposals: true } };
  }

  initialize(capabilities: ServerCapabilities): void {
    const languages = (capabilities.experimental as { perforch?: { languages?: unknown } } | undefined)?.perforch?.languages;
    if (Array.isArray(languages) && languages.every((language) => typeof language === "string")) {
      this.learned(languages);
    }
  }

  getState(): FeatureState {
    return { kind: "static" };
  }

  clear(): void {}
}

export class PerfOrchClient implements vscode.Disposable {
  client: LanguageClient | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<string>();
  readonly onDidChangeState = this.stateEmitter.event;
  state = "stopped";
  problem = ""; // why the server is not running, when it is not
  languages: string[]; // the languages PerfOrch works on, as the server said (VS Code language ids)

  constructor(
    private readonly keys: ApiKeys,
    private readonly output: vscode.LogOutputChannel,
    private readonly runJob: JobCommand,
    private readonly activationLanguages: string[],
  ) {
    this.languages = activationLanguages;
    void this.publishLanguages();
  }

  /** Start the server; false (after telling the user what to do) when it cannot start. */
  async start(): Promise<boolean> {
    const interpreter = await chooseInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri);
    const check = await checkInstalled(interpreter);
    if (!check.ok) {
      this.setState("not installed", `${check.problem}: ${check.fix}`);
      this.output.appendLine(`PerfOrch cannot start: ${check.problem}; ${check.fix}`);
      void this.offerFix(check.problem, check.fix);
      return false;
    }
    this.output.appendLine(`PerfOrch: starting the server with ${interpreter.path} (${interpreter.source})`);
    const env = { ...process.env, ...(await this.keys.environment()) };
    const server: ServerOptions = {
      command: interpreter.path,
      args: ["-m", "perforch.cli", "serve"],
      options: { env },
    };
    this.client = new LanguageClient("perforch", "PerfOrch", server, this.options());
    this.client.registerFeature(
      new PerfOrchCapabilities((languages) => {
        this.languages = languages;
        void this.publishLanguages();
      }),
    );
    this.client.onDidChangeState((event) => {
      const names: Record<number, string> = { [State.Starting]: "starting", [State.Running]: "running", [State.Stopped]: "stopped" };
      this.setState(names[event.newState] ?? "failed", "");
    });
    try {
      await this.client.start();
    } catch (error) {
      this.setState("failed", `the server did not start: ${String(error)}`);
      void vscode.window.showErrorMessage(`PerfOrch: the server did not start (${String(error)}); see the log.`, "Show log")
        .then((choice) => choice && this.output.show());
      return false;
    }
    return true;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client?.isRunning()) {
      await client.stop(5000).catch((error) => this.output.appendLine(`PerfOrch: stopping the server: ${error}`));
    }
    this.setState("stopped", "");
  }

  async restart(): Promise<boolean> {
    await this.stop();
    return this.start();
  }

  running(): LanguageClient {
    if (!this.client || !this.client.isRunning()) {
      throw new Error(this.problem || "the PerfOrch server is not running; run 'PerfOrch: Restart server'");
    }
    return this.client;
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }

  private options(): LanguageClientOptions {
    return {
      // perforch.toml too: the server checks it when it is opened and saved (a broken one is a Problems entry).
      documentSelector: [
        ...this.activationLanguages.map((language) => ({ scheme: "file", language })),
        { scheme: "file", pattern: "**/perforch.toml" },
      ],
      outputChannel: this.output,
      initializationOptions: serverSettings(),
      errorHandler: this.errorHandler(),
      middleware: {
        // The lightbulb's command goes through the job runner: progress, cancel and a preview, not a bare apply.
        executeCommand: (command, args, next) => (JOB_COMMANDS.has(command) ? this.runJob(command, args) : next(command, args)),
        // A provider asked while the server stops (a window reload, a restart) has no answer to give: none, rather
        // than an error VS Code logs as a failed provider.
        provideCodeActions: (document, range, context, token, next) => this.quietly(() => next(document, range, context, token)),
        provideCodeLenses: (document, token, next) => this.quietly(() => next(document, token)),
        workspace: {
          // Pushes and pulls carry only the server's settings: perforch.pythonPath would be "unknown" there.
          didChangeConfiguration: async () => {
            await this.client?.sendNotification(DidChangeConfigurationNotification.type, { settings: { perforch: serverSettings() } });
          },
          configuration: (params, token, next) =>
            params.items.map((item) => (item.section === "perforch" ? serverSettings(scopeOf(item.scopeUri)) : null)),
        },
      },
    };
  }

  /** A provider's answer; while the server stops, none (not an error); otherwise an error goes to the log. */
  private async quietly<T>(ask: () => vscode.ProviderResult<T>): Promise<T | null | undefined> {
    try {
      return await ask();
    } catch (error) {
      if (this.client?.isRunning()) {
        this.output.warn(`PerfOrch: the server could not answer: ${(error as Error).message ?? error}`);
      }
      return null;
    }
  }

  private errorHandler(): ErrorHandler {
    const crashes: number[] = [];
    return {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        const now = Date.now();
        crashes.push(now);
        while (crashes.length && now - crashes[0] > RESTART_WINDOW_MS) {
          crashes.shift();
        }
        if (crashes.length <= RESTARTS) {
          this.output.appendLine("PerfOrch: the server stopped unexpectedly; restarting it");
          return { action: CloseAction.Restart };
        }
        const message = `the server stopped ${crashes.length} times in 3 minutes and was not restarted; see the log, then run 'PerfOrch: Restart server'`;
        this.setState("crashed", message);
        return { action: CloseAction.DoNotRestart, message: `PerfOrch: ${message}` };
      },
    };
  }

  /** The editor menus offer PerfOrch's commands for these languages (package.json: `editorLangId in perforch.languages`). */
  private publishLanguages(): Thenable<unknown> {
    return vscode.commands.executeCommand("setContext", "perforch.languages", this.languages);
  }

  private setState(state: string, problem: string): void {
    this.state = state;
    this.problem = problem;
    this.stateEmitter.fire(state);
  }

  private async offerFix(problem: string, fix: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(`PerfOrch: ${problem}. Fix: ${fix}.`, "Open Settings", "Retry");
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "perforch.pythonPath");
    } else if (choice === "Retry") {
      await this.restart();
    }
  }
}

function scopeOf(uri: string | undefined): vscode.Uri | undefined {
  return uri ? vscode.Uri.parse(uri) : undefined;
}
