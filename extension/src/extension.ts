// PerfOrch for VS Code: wires the language client, the job runner, the job outcomes, the diff preview, the
// routing status item and the ranking view, and the API-key store to commands and events. The work itself is
// the server's.
import * as vscode from "vscode";
import { PerfOrchClient, manifestLanguages } from "./client";
import { JobRunner, type Kind } from "./jobs";
import { ApiKeys } from "./keys";
import { CANDIDATE_SCHEME, Outcomes } from "./outcome";
import { Previews, SCHEME } from "./preview";
import { RankingStatus } from "./rankings";
import { RankingsPanel } from "./rankingsPanel";

/** What activate() returns: the extension's parts, for its integration tests. */
export interface PerfOrchApi {
  client: PerfOrchClient;
  jobs: JobRunner;
  previews: Previews;
  outcomes: Outcomes;
  status: RankingStatus;
  panel: RankingsPanel;
  keys: ApiKeys;
}

const ACTION_KIND = "refactor.rewrite.perforch"; // server/code_actions.py

export async function activate(context: vscode.ExtensionContext): Promise<PerfOrchApi> {
  const output = vscode.window.createOutputChannel("PerfOrch", { log: true });
  const keys = new ApiKeys(context);
  // The lightbulb's commands reach the job runner, made below (the client calls this only once it runs).
  const languages = manifestLanguages(context.extension.packageJSON);
  const client: PerfOrchClient = new PerfOrchClient(keys, output, (command, args) => jobs.fromServerCommand(command, args), languages);
  const previews = new Previews(client);
  const outcomes = new Outcomes(output);
  const status = new RankingStatus(client);
  const panel = new RankingsPanel();
  const refresh = () => void status.update();
  const setKey = async (name?: string) => {
    const stored = await keys.prompt(typeof name === "string" ? name : undefined, workspaceKeyNames(status));
    if (stored) {
      void vscode.window.showInformationMessage(`PerfOrch: ${stored} stored in secret storage; the server restarts to use it.`);
      await client.restart();
      status.invalidate();
      refresh();
    }
    return stored;
  };
  // Every finished job, from a command or the lightbulb: its outcome (logged, a failure's fix offered), its
  // category for the status item, then the preview.
  const jobs: JobRunner = new JobRunner(client, async (result) => {
    const actions = { setKey, retry: () => jobs.retry(), openConfig: (file?: string) => openConfig(file ?? status.routing?.config ?? undefined) };
    void outcomes.report(result, actions);
    if (result.status === "done") {
      status.rememberCategory(result.uri ?? "", result.category);
      status.invalidate(); // the outcome may have moved a learned ranking
      refresh();
    }
    await previews.show(result); // a cancelled job's offer, if one waits, stays open to decide
  });
  context.subscriptions.push(output, client, jobs, previews, outcomes, status, panel);
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(SCHEME, previews));
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(CANDIDATE_SCHEME, outcomes));
  context.subscriptions.push(
    jobs.onDidStart(() => outcomes.clear()),
    jobs.onDidOffer((offer) => {
      outcomes.offered(offer);
      void previews.offer(offer);
    }),
    previews.onDidDecide(({ accepted, result }) => outcomes.decided(accepted, result)),
  );

  const job = (kind: Kind) => () => jobs.atCursor(kind);
  const command = (id: string, run: (...args: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, run));
  command("perforch.generateHere", job("generate"));
  command("perforch.optimizeHere", job("optimize"));
  command("perforch.cancel", () => {
    const cancelled = jobs.cancelAll();
    if (!cancelled) {
      void vscode.window.showInformationMessage("PerfOrch: no job is running.");
    }
    return cancelled;
  });
  command("perforch.acceptProposal", (id?: string) => previews.accept(typeof id === "string" ? id : undefined));
  command("perforch.rejectProposal", (id?: string) => previews.reject(typeof id === "string" ? id : undefined));
  command("perforch.showRankings", (language?: string) => showRankings(client, status, panel, language));
  command("perforch.setApiKey", (name?: string) => setKey(name));
  command("perforch.removeApiKey", async () => {
    const name = await vscode.window.showQuickPick(keys.names(), { placeHolder: "API key to remove" });
    if (name) {
      await keys.remove(name);
      await client.restart();
    }
  });
  command("perforch.restartServer", () => client.restart());
  command("perforch.showLog", () => output.show());
  command("perforch.showLastResult", () => showLastResult(outcomes, output));
  command("perforch.showFailingCandidate", () => outcomes.showCandidate());
  command("perforch.openConfig", (file?: string) => openConfig(typeof file === "string" ? file : status.routing?.config ?? undefined));
  command("perforch.configureModels", () => configureModels(status, setKey));
  command("perforch.getStarted", () => vscode.commands.executeCommand("workbench.action.openWalkthrough", `${context.extension.id}#gettingStarted`, false));

  // Menus offer Generate on a stub and Optimize on a finished function only: the server says which is here.
  const cursor = new CursorFunction(client);
  context.subscriptions.push(cursor, vscode.window.onDidChangeTextEditorSelection((event) => cursor.update(event.textEditor)));

  // The status item follows the file, the settings and every perforch.toml.
  const tomls = vscode.workspace.createFileSystemWatcher("**/perforch.toml");
  const configChanged = () => {
    status.invalidate();
    refresh();
  };
  context.subscriptions.push(
    tomls,
    tomls.onDidChange(configChanged),
    tomls.onDidCreate(configChanged),
    tomls.onDidDelete(configChanged),
    vscode.workspace.onDidSaveTextDocument((document) => document.fileName.endsWith("perforch.toml") && configChanged()),
    vscode.window.onDidChangeActiveTextEditor(refresh),
    client.onDidChangeState(configChanged), // a restarted server may see new keys
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("perforch.pythonPath")) {
        await client.restart();
      } else if (event.affectsConfiguration("perforch")) {
        configChanged();
      }
    }),
  );
  void client.start();
  return { client, jobs, previews, outcomes, status, panel, keys };
}

/** The api_key_env names of the models a job on the active file would use (from its perforch.toml). */
function workspaceKeyNames(status: RankingStatus): string[] {
  return [...new Set((status.routing?.models ?? []).map((model) => model.key_env).filter(Boolean))];
}

async function openConfig(file: string | undefined): Promise<void> {
  const target = file ?? (await vscode.workspace.findFiles("**/perforch.toml", "**/node_modules/**", 1))[0]?.fsPath;
  if (!target) {
    void vscode.window.showInformationMessage("PerfOrch: no perforch.toml in this workspace; `perforch init` writes one.");
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(target), { preview: false });
}

async function showLastResult(outcomes: Outcomes, output: vscode.LogOutputChannel): Promise<void> {
  if (!outcomes.last) {
    void vscode.window.showInformationMessage("PerfOrch: no job has finished yet in this window.");
    return;
  }
  output.show(true);
}

/** Each model of the workspace's config with its key's state; picking one sets its key or opens the config. */
async function configureModels(status: RankingStatus, setKey: (name?: string) => Promise<unknown>): Promise<void> {
  await status.update();
  const routing = status.routing;
  if (!routing) {
    void vscode.window.showInformationMessage("PerfOrch: open a source file of your project first.");
    return;
  }
  const items: (vscode.QuickPickItem & { key?: string; open?: boolean })[] = routing.models.map((model) => ({
    label: `${model.key_set || !model.key_env ? "$(pass)" : "$(key)"} ${model.alias}`,
    description: model.model,
    detail: model.key_env ? `${model.key_env}: ${model.key_set ? "set" : "not set: pick to set it"}` : "no key needed",
    key: model.key_set ? undefined : model.key_env || undefined,
  }));
  items.push({ label: "$(go-to-file) Open perforch.toml", description: routing.config ?? "none yet", open: true });
  const chosen = await vscode.window.showQuickPick(items, { title: `PerfOrch models (${routing.config ?? "editor settings"})`, placeHolder: routing.problem || routing.why });
  if (chosen?.open) {
    await openConfig(routing.config ?? undefined);
  } else if (chosen) {
    await setKey(chosen.key);
  }
}

/** The context key `perforch.cursorFunction` ("stub", "finished" or ""), from the server's code action. */
class CursorFunction implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly client: PerfOrchClient) {}

  update(editor: vscode.TextEditor): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.ask(editor), 200);
  }

  private async ask(editor: vscode.TextEditor): Promise<void> {
    let kind = "";
    try {
      const client = this.client.running();
      const at = { line: editor.selection.active.line, character: 0 };
      const actions = (await client.sendRequest("textDocument/codeAction", {
        textDocument: { uri: editor.document.uri.toString() },
        range: { start: at, end: at },
        context: { diagnostics: [], only: [ACTION_KIND] },
      })) as { command?: { command: string } }[] | null;
      const command = actions?.[0]?.command?.command;
      kind = command === "perforch.generate" ? "stub" : command === "perforch.optimize" ? "finished" : "";
    } catch {
      kind = ""; // no server, or a document it does not know: no menu entry
    }
    await vscode.commands.executeCommand("setContext", "perforch.cursorFunction", kind);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

async function showRankings(client: PerfOrchClient, status: RankingStatus, panel: RankingsPanel, language?: string): Promise<void> {
  const chosen = typeof language === "string" ? language : status.languageOf(vscode.window.activeTextEditor);
  const target = chosen ?? (await vscode.window.showQuickPick(client.languages, { placeHolder: "Language" }));
  if (!target) {
    return;
  }
  // The config of a file of that language (the active one, else one open): the models a job there would ask.
  const editor = vscode.window.activeTextEditor;
  const ofLanguage = (document: vscode.TextDocument) => document.languageId === target && document.uri.scheme === "file";
  const document = editor && ofLanguage(editor.document) ? editor.document : vscode.workspace.textDocuments.find(ofLanguage);
  const uri = document?.uri.toString();
  try {
    const [rankings, state, routing] = await Promise.all([
      status.rankings(target, uri),
      status.sessionStatus(),
      uri ? status.routeFor(uri) : Promise.resolve(undefined),
    ]);
    panel.show(target, rankings, state, routing);
  } catch (error) {
    void vscode.window.showErrorMessage(`PerfOrch: cannot show the ranking: ${(error as Error).message ?? error}`);
  }
}

export function deactivate(): void {
  // The client is in context.subscriptions: VS Code disposes it, which stops the server.
}
