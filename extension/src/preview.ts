// A finished job's proposal, shown as a diff (the file against the proposed text) with Accept and Reject.
// Accept goes through the server's versioned perforch.apply and then saves the file; Reject changes nothing.
import * as path from "node:path";
import * as vscode from "vscode";
import { ExecuteCommandRequest } from "vscode-languageclient/node";
import type { PerfOrchClient } from "./client";
import type { JobResult, TextEditJson } from "./jobs";
import { factsOf } from "./outcome";

export const SCHEME = "perforch-proposal";
// The notification's buttons name the keys that do the same in the diff (package.json keybindings).
export const ACCEPT = "Accept (Ctrl+Alt+Enter)";
export const REJECT = "Reject (Ctrl+Alt+Backspace)";

export interface Proposal {
  id: string;
  file: vscode.Uri;
  proposed: string;
  result: JobResult;
  view: vscode.Uri; // the right side of the diff
}

export class Previews implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly proposals = new Map<string, Proposal>();
  private readonly decisions = new Map<string, string>(); // proposal id -> "accepted" or "rejected"
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly decided = new vscode.EventEmitter<{ id: string; accepted: boolean }>();
  readonly onDidChange = this.changed.event;
  readonly onDidDecide = this.decided.event;

  constructor(private readonly client: PerfOrchClient) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.proposals.get(uri.query)?.proposed ?? "";
  }

  get pending(): Proposal[] {
    return [...this.proposals.values()];
  }

  /** Open the diff for a finished job, or say why there is nothing to preview. */
  async show(result: JobResult): Promise<Proposal | undefined> {
    if (result.status !== "done") {
      return undefined;
    }
    const text = result.summary ?? `PerfOrch ${result.kind}: finished`;
    if (!result.id || !result.edit || !result.uri) {
      if (result.passed) {
        void vscode.window.showInformationMessage(text); // a failure is the outcome's to show, with its fix
      }
      return undefined;
    }
    const file = vscode.Uri.parse(result.uri);
    const document = await vscode.workspace.openTextDocument(file);
    if (result.version !== null && result.version !== undefined && document.version !== result.version) {
      await this.forget(result.id, true);
      void vscode.window.showWarningMessage(`PerfOrch: ${path.basename(file.fsPath)} changed while the job ran; nothing was applied. Run it again.`);
      return undefined;
    }
    const proposal: Proposal = {
      id: result.id,
      file,
      proposed: applyEdits(document, editsFor(result)),
      result,
      view: file.with({ scheme: SCHEME, query: result.id }),
    };
    this.proposals.set(proposal.id, proposal);
    this.changed.fire(proposal.view);
    await this.updateContext();
    const facts = factsOf(result);
    const title = `${path.basename(file.fsPath)} ↔ PerfOrch ${result.kind} ${result.function} (${facts.short.split(" · ").slice(1).join(" · ")})`;
    await vscode.commands.executeCommand("vscode.diff", file, proposal.view, title, { preview: false });
    void vscode.window.showInformationMessage(`${text}`, ACCEPT, REJECT).then((choice) => {
      if (!choice) {
        return;
      }
      if (!this.proposals.has(proposal.id)) {
        void vscode.window.showInformationMessage(`PerfOrch: that proposal was already ${this.decisions.get(proposal.id) ?? "decided"}; nothing was done.`);
        return;
      }
      void (choice === ACCEPT ? this.accept(proposal.id) : this.reject(proposal.id));
    });
    return proposal;
  }

  /** Apply a proposal (the one in the active diff, else the latest) and save the file. */
  async accept(id?: string): Promise<boolean> {
    const proposal = this.chosen(id);
    if (!proposal) {
      return false;
    }
    const answer = (await this.client.running().sendRequest(ExecuteCommandRequest.type, {
      command: "perforch.apply",
      arguments: [proposal.id, true],
    })) as { status: string; refused?: string; message?: string };
    if (answer?.status !== "applied") {
      const why = answer?.refused || answer?.message || "the server did not apply it";
      void vscode.window.showWarningMessage(`PerfOrch: the proposal was not applied: ${why}`);
      return false;
    }
    const document = await vscode.workspace.openTextDocument(proposal.file);
    await document.save();
    await this.close(proposal);
    this.proposals.delete(proposal.id);
    this.decisions.set(proposal.id, "accepted");
    this.decided.fire({ id: proposal.id, accepted: true });
    await this.updateContext();
    void vscode.window.showInformationMessage(
      `PerfOrch: \`${proposal.result.function}\` in ${path.basename(proposal.file.fsPath)} was replaced and saved (Undo: Ctrl+Z).`,
    );
    return true;
  }

  /** Drop a proposal; the file is not touched. */
  async reject(id?: string): Promise<boolean> {
    const proposal = this.chosen(id);
    if (!proposal) {
      return false;
    }
    await this.close(proposal);
    await this.forget(proposal.id, false);
    this.decisions.set(proposal.id, "rejected");
    this.decided.fire({ id: proposal.id, accepted: false });
    return true;
  }

  dispose(): void {
    this.changed.dispose();
    this.decided.dispose();
  }

  private chosen(id?: string): Proposal | undefined {
    const active = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const inView = active instanceof vscode.TabInputTextDiff && active.modified.scheme === SCHEME ? active.modified.query : undefined;
    const proposal = this.proposals.get(id ?? inView ?? "") ?? (id ? undefined : this.pending.at(-1));
    if (!proposal) {
      void vscode.window.showWarningMessage(id ? `PerfOrch: no proposal ${id}; it was applied or rejected.` : "PerfOrch: no proposal to accept or reject.");
    }
    return proposal;
  }

  private async forget(id: string, quiet: boolean): Promise<void> {
    this.proposals.delete(id);
    await this.updateContext();
    try {
      await this.client.running().sendRequest(ExecuteCommandRequest.type, { command: "perforch.discard", arguments: [id] });
    } catch (error) {
      if (!quiet) {
        throw error;
      }
    }
  }

  private async close(proposal: Proposal): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter(
      (tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === proposal.view.toString(),
    );
    await vscode.window.tabGroups.close(tabs);
  }

  private updateContext(): Thenable<unknown> {
    return vscode.commands.executeCommand("setContext", "perforch.proposalOpen", this.proposals.size > 0);
  }
}

function editsFor(result: JobResult): TextEditJson[] {
  const edit = result.edit ?? {};
  if (edit.documentChanges) {
    return edit.documentChanges.filter((change) => change.textDocument.uri === result.uri).flatMap((change) => change.edits);
  }
  return edit.changes?.[result.uri ?? ""] ?? [];
}

/** The document's text with LSP text edits applied (last first, so earlier offsets stay valid). */
export function applyEdits(document: vscode.TextDocument, edits: TextEditJson[]): string {
  let text = document.getText();
  const offsets = edits.map((edit) => ({
    start: document.offsetAt(new vscode.Position(edit.range.start.line, edit.range.start.character)),
    end: document.offsetAt(new vscode.Position(edit.range.end.line, edit.range.end.character)),
    text: edit.newText,
  }));
  for (const edit of offsets.sort((a, b) => b.start - a.start)) {
    text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  }
  return text;
}
