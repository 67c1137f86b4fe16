// PerfOrch for VS Code: wires the language client, the job runner, the diff preview, the ranking status item
// and view, and the API-key store to commands and events. The work itself is the server's.
import * as vscode from "vscode";
import { PerfOrchClient, manifestLanguages } from "./client";
import { JobRunner, type Kind } from "./jobs";
import { ApiKeys } from "./keys";
import { Previews, SCHEME } from "./preview";
import { RankingStatus } from "./rankings";
import { RankingsPanel } from "./rankingsPanel";

/** What activate() returns: the extension's parts, for its integration tests. */
export interface PerfOrchApi {
  client: PerfOrchClient;
  jobs: JobRunner;
  previews: Previews;
  status: RankingStatus;
  panel: RankingsPanel;
  keys: ApiKeys;
}

export async function activate(context: vscode.ExtensionContext): Promise<PerfOrchApi> {
  const output = vscode.window.createOutputChannel("PerfOrch", { log: true });
  const keys = new ApiKeys(context);
  // The lightbulb's commands reach the job runner, made below (the client calls this only once it runs).
  const languages = manifestLanguages(context.extension.packageJSON);
  const client: PerfOrchClient = new PerfOrchClient(keys, output, (command, args) => jobs.fromServerCommand(command, args), languages);
  const previews = new Previews(client);
  const status = new RankingStatus(client);
  const panel = new RankingsPanel();
  const refresh = () => void status.update();
  // Every finished job, from a command or the lightbulb: its category for the status item, then the preview.
  const jobs: JobRunner = new JobRunner(client, async (result) => {
    if (result.status === "done") {
      status.rememberCategory(result.uri ?? "", result.category);
      status.invalidate(); // the outcome may have moved a learned ranking
      refresh();
      await previews.show(result);
    }
  });
  context.subscriptions.push(output, client, jobs, previews, status, panel);
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(SCHEME, previews));

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
  command("perforch.setApiKey", async () => {
    const name = await keys.prompt();
    if (name) {
      void vscode.window.showInformationMessage(`PerfOrch: ${name} stored in secret storage; restarting the server so it can use it.`);
      await client.restart();
    }
  });
  command("perforch.removeApiKey", async () => {
    const name = await vscode.window.showQuickPick(keys.names(), { placeHolder: "API key to remove" });
    if (name) {
      await keys.remove(name);
      await client.restart();
    }
  });
  command("perforch.restartServer", () => client.restart());
  command("perforch.showLog", () => output.show());

  context.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor(refresh),
    client.onDidChangeState(refresh),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("perforch.pythonPath")) {
        await client.restart();
      } else if (event.affectsConfiguration("perforch")) {
        status.invalidate();
        refresh();
      }
    }),
  );
  void client.start();
  return { client, jobs, previews, status, panel, keys };
}

async function showRankings(client: PerfOrchClient, status: RankingStatus, panel: RankingsPanel, language?: string): Promise<void> {
  const chosen = typeof language === "string" ? language : status.languageOf(vscode.window.activeTextEditor);
  const target = chosen ?? (await vscode.window.showQuickPick(client.languages, { placeHolder: "Language" }));
  if (!target) {
    return;
  }
  try {
    const [rankings, state] = await Promise.all([
      status.rankings(target),
      status.sessionStatus(),
    ]);
    panel.show(target, rankings, state);
  } catch (error) {
    void vscode.window.showErrorMessage(`PerfOrch: cannot show the ranking: ${(error as Error).message ?? error}`);
  }
}

export function deactivate(): void {
  // The client is in context.subscriptions: VS Code disposes it, which stops the server.
}
