// A job's proposal, shown as a diff (the file against the proposed text) with Accept and Reject. Accept goes
// through the server's versioned perforch.apply and then saves the file; Reject changes nothing.
// While a job refines, the server offers its first passing version (then each faster one): its diff is
// labelled "still refining" and can be accepted at once. A newer version takes the older one's place; after an
// accept, refinement goes on and a faster version comes as a new proposal against the file as accepted; a
// reject ends the job (server/offers.py).
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
  result: JobResult; // result.refining: an offer made while its job still runs
  view: vscode.Uri; // the right side of the diff
}

/** The diff's label for an offer: what it is, and that the job goes on. */
export const REFINING = "still refining";

export class Previews implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly proposals = new Map<string, Proposal>();
  private readonly decisions = new Map<string, string>(); // proposal id -> "accepted" or "rejected"
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly decided = new vscode.EventEmitter<{ id: string; accepted: boolean; result: JobResult }>();
  readonly onDidChange = this.changed.event;
  readonly onDidDecide = this.decided.event;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: PerfOrchClient) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.proposals.get(uri.query)?.proposed ?? "";
  }

  get pending(): Proposal[] {
    return [...this.proposals.values()];
  }

  /** Open the diff for a finished job, or say why there is nothing to preview; it takes the place of the job's
   * offer, if one still waits. */
  show(result: JobResult): Promise<Proposal | undefined> {
    return this.inTurn(() => this.showNow(result));
  }

  /** A version offered while its job refines: its diff, labelled so, with Accept and Reject. */
  offer(result: JobResult): Promise<Proposal | undefined> {
    return this.inTurn(() => this.offerNow(result));
  }

  /** One preview change at a time, in the order they came: an offer still opening must not outlive the answer
   * that replaces it. */
  private inTurn<T>(change: () => Promise<T>): Promise<T> {
    const next = this.turn.then(change);
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async showNow(result: JobResult): Promise<Proposal | undefined> {
    if (result.status === "cancelled" && result.offered) {
      return this.settle(result.offered);
    }
    if (result.status !== "done") {
      return undefined;
    }
    const text = result.summary ?? `PerfOrch ${result.kind}: finished`;
    const offer = this.offerOf(result.job);
    if (offer && offer.id !== result.id) {
      await this.drop(offer, "replaced by a faster version"); // the server forgot it
    }
    if (!result.id || !result.edit || !result.uri) {
      if (result.passed) {
        void vscode.window.showInformationMessage(text); // a failure is the outcome's to show, with its fix
      }
      return undefined;
    }
    const proposal = await this.open(result);
    if (proposal) {
      this.ask(proposal, text);
    }
    return proposal;
  }

  private async offerNow(result: JobResult): Promise<Proposal | undefined> {
    const earlier = this.offerOf(result.job);
    if (earlier) {
      await this.drop(earlier, "replaced by a faster version");
    }
    const proposal = await this.open(result);
    if (proposal) {
      const what = result.speedup ? `A ${result.speedup.toFixed(2)}x faster version` : "A passing version";
      this.ask(proposal, `PerfOrch ${result.kind} \`${result.function}\`: ${what} is ready (${factsOf(result).short.split(" · ")[1]}); still looking for a faster one.`);
    }
    return proposal;
  }

  private async open(result: JobResult): Promise<Proposal | undefined> {
    const file = vscode.Uri.parse(result.uri ?? "");
    const document = await vscode.workspace.openTextDocument(file);
    if (result.version !== null && result.version !== undefined && document.version !== result.version) {
      if (!result.refining) { // an offer for an older text is only stale: the job's answer will say
        await this.forget(result.id ?? "", true);
        void vscode.window.showWarningMessage(`PerfOrch: ${path.basename(file.fsPath)} changed while the job ran; nothing was applied. Run it again.`);
      }
      return undefined;
    }
    const earlier = this.proposals.get(result.id ?? "");
    if (earlier) {
      await this.close(earlier); // the offer, now final: opened again under the final label
    }
    const proposal: Proposal = {
      id: result.id ?? "",
      file,
      proposed: applyEdits(document, editsFor(result)),
      result,
      view: file.with({ scheme: SCHEME, query: result.id ?? "" }),
    };
    this.proposals.set(proposal.id, proposal);
    this.changed.fire(proposal.view);
    await this.updateContext();
    await vscode.commands.executeCommand("vscode.diff", file, proposal.view, titleOf(proposal), { preview: false });
    return proposal;
  }

  /** An offer whose job was cancelled: it stays open to decide, no longer labelled "still refining". */
  private async settle(id: string): Promise<Proposal | undefined> {
    const offer = this.proposals.get(id);
    if (!offer) {
      return undefined;
    }
    offer.result = { ...offer.result, refining: false };
    await this.close(offer);
    await vscode.commands.executeCommand("vscode.diff", offer.file, offer.view, titleOf(offer), { preview: false });
    return offer;
  }

  /** The notification with Accept and Reject, which does nothing once the proposal was decided or replaced. */
  private ask(proposal: Proposal, text: string): void {
    void vscode.window.showInformationMessage(text, ACCEPT, REJECT).then((choice) => {
      if (!choice) {
        return;
      }
      if (this.proposals.get(proposal.id) !== proposal) {
        const was = this.decisions.get(proposal.id) ?? (this.proposals.has(proposal.id) ? "shown again with the final result" : "decided");
        void vscode.window.showInformationMessage(`PerfOrch: that proposal was already ${was}; nothing was done.`);
        return;
      }
      void (choice === ACCEPT ? this.accept(proposal.id) : this.reject(proposal.id));
    });
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
    this.decided.fire({ id: proposal.id, accepted: true, result: proposal.result });
    await this.updateContext();
    const more = proposal.result.refining ? " Refinement goes on: a faster version, if found, comes as a new proposal." : "";
    void vscode.window.showInformationMessage(
      `PerfOrch: \`${proposal.result.function}\` in ${path.basename(proposal.file.fsPath)} was replaced and saved (Undo: Ctrl+Z).${more}`,
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
    await this.forget(proposal.id, false); // an offer's job ends with it (the server cancels it)
    this.decisions.set(proposal.id, "rejected");
    this.decided.fire({ id: proposal.id, accepted: false, result: proposal.result });
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

  /** The offer of `job` still waiting, if any. */
  private offerOf(job: string | undefined): Proposal | undefined {
    return job ? this.pending.find((proposal) => proposal.result.job === job && proposal.result.refining) : undefined;
  }

  /** Close a proposal the server no longer holds. */
  private async drop(proposal: Proposal, why: string): Promise<void> {
    await this.close(proposal);
    this.proposals.delete(proposal.id);
    this.decisions.set(proposal.id, why);
    await this.updateContext();
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

/** The diff's title: the file, the job, and what the version is (an offer: "still refining"). */
function titleOf(proposal: Proposal): string {
  const { result } = proposal;
  const facts = factsOf(result).short.split(" · ").slice(1).join(" · ");
  const what = result.refining ? `${result.speedup ? `${result.speedup.toFixed(2)}x faster` : "passing"} version — ${REFINING}` : facts;
  return `${path.basename(proposal.file.fsPath)} ↔ PerfOrch ${result.kind} ${result.function} (${what})`;
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
