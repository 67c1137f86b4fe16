// The ranking in force, as the server's perforch/rankings answers it (rankings/view.py, as_json), and the
// status-bar item: the top generator for the active editor's language (and the problem's category once a job
// has found it), the top of each stage in its tooltip with the session's tokens and cost.
import * as vscode from "vscode";
import type { PerfOrchClient } from "./client";

export const ANY_CATEGORY = "*";
const SHOWN_STAGES = ["generate", "debug", "refine"];

export interface RankedModel {
  model: string;
  score: number;
  samples: number;
  source_name?: string;
}

export interface RankingCell {
  stage: string;
  language: string;
  category: string;
  ranking: RankedModel[];
  provenance: Record<string, unknown> | null;
  fallback: string | null;
  your_order?: string[];
}

export interface Rankings {
  profile: string;
  provenance: { benchmark: string; date: string; models: string[]; metric: string; notes: string[]; dropped: string[] };
  learning: { enabled: boolean; observations?: number; min_observations?: number; prior_weight?: number };
  stage_fallback: Record<string, string>;
  cells: RankingCell[];
}

export interface Status {
  jobs: { id: string; stage: string; model: string }[];
  proposals: unknown[];
  tokens: number;
  cost_usd: number;
}

/** The cell for (stage, language, category), falling back to the language's overall row. */
export function cellFor(rankings: Rankings, stage: string, language: string, category: string): RankingCell | undefined {
  const cells = rankings.cells.filter((cell) => cell.stage === stage && cell.language === language);
  return cells.find((cell) => cell.category === category) ?? cells.find((cell) => cell.category === ANY_CATEGORY);
}

/** The models the pipeline would try, best first: the user's own (by alias) when the server knows them. */
export function order(cell: RankingCell | undefined): string[] {
  if (!cell) {
    return [];
  }
  return cell.your_order && cell.your_order.length ? cell.your_order : cell.ranking.map((entry) => entry.model);
}

export class RankingStatus implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem("perforch.ranking", vscode.StatusBarAlignment.Right, 100);
  private readonly cache = new Map<string, Rankings>();
  private readonly categories = new Map<string, string>(); // document uri -> the category a job found
  private readonly updatedEmitter = new vscode.EventEmitter<string>();
  readonly onDidUpdate = this.updatedEmitter.event; // the item's text after each update
  private status: Status | undefined;
  private generation = 0; // a slow answer for a file the user left must not overwrite the newer one

  constructor(private readonly client: PerfOrchClient) {
    this.item.name = "PerfOrch ranking";
    this.item.command = "perforch.showRankings";
  }

  /** Forget cached rankings (settings or learned outcomes changed). */
  invalidate(): void {
    this.cache.clear();
  }

  rememberCategory(uri: string, category: string | undefined): void {
    if (category) {
      this.categories.set(uri, category);
    }
  }

  languageOf(editor: vscode.TextEditor | undefined): string | undefined {
    const language = editor?.document.languageId;
    return language && this.client.languages.includes(language) ? language : undefined;
  }

  async rankings(language: string): Promise<Rankings> {
    const cached = this.cache.get(language);
    if (cached) {
      return cached;
    }
    const fresh = (await this.client.running().sendRequest("perforch/rankings", { language })) as Rankings;
    this.cache.set(language, fresh);
    return fresh;
  }

  async update(): Promise<void> {
    const generation = ++this.generation;
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      return; // a webview or panel has the focus: keep showing the last file's ranking
    }
    const language = this.languageOf(editor);
    if (!language) {
      this.item.hide();
      return;
    }
    if (this.client.state !== "running") {
      this.showProblem(this.client.problem || `server ${this.client.state}`);
      return;
    }
    try {
      const [rankings, status] = await Promise.all([this.rankings(language), this.sessionStatus()]);
      if (generation !== this.generation) {
        return;
      }
      this.status = status;
      const category = this.categories.get(editor.document.uri.toString()) ?? ANY_CATEGORY;
      const top = order(cellFor(rankings, "generate", language, category))[0] ?? "no model";
      const where = category === ANY_CATEGORY ? language : `${language}/${category}`;
      this.item.text = `$(sparkle) ${top}`;
      this.item.tooltip = this.tooltip(rankings, language, category);
      this.item.accessibilityInformation = { label: `PerfOrch: top generator for ${where} is ${top}` };
      this.item.backgroundColor = undefined;
      this.item.show();
      this.updatedEmitter.fire(this.item.text);
    } catch (error) {
      if (generation === this.generation) {
        this.showProblem(String((error as Error).message ?? error));
      }
    }
  }

  dispose(): void {
    this.item.dispose();
    this.updatedEmitter.dispose();
  }

  /** The server's perforch/status (jobs, tokens, cost), or the last one seen when it cannot answer. */
  async sessionStatus(): Promise<Status | undefined> {
    try {
      return (await this.client.running().sendRequest("perforch/status", {})) as Status;
    } catch {
      return this.status;
    }
  }

  private tooltip(rankings: Rankings, language: string, category: string): vscode.MarkdownString {
    const where = category === ANY_CATEGORY ? language : `${language}, category ${category}`;
    const lines = [`**PerfOrch ranking** for ${where} (profile \`${rankings.profile}\`)`, "", "| stage | 1st | 2nd | 3rd |", "|---|---|---|---|"];
    for (const stage of SHOWN_STAGES) {
      const cell = cellFor(rankings, stage, language, category);
      const models = order(cell).slice(0, 3);
      const fallback = cell ? "" : ` (as ${rankings.stage_fallback[stage] ?? "generate"})`;
      lines.push(`| ${stage}${fallback} | ${[0, 1, 2].map((i) => (models[i] ? `\`${models[i]}\`` : "")).join(" | ")} |`);
    }
    if (this.status) {
      lines.push("", `Session: ${this.status.tokens} tokens, $${this.status.cost_usd.toFixed(4)}`);
    }
    lines.push("", "Click for the full ranking matrix.");
    const markdown = new vscode.MarkdownString(lines.join("\n"));
    markdown.supportThemeIcons = true;
    return markdown;
  }

  private showProblem(problem: string): void {
    this.item.text = "$(warning) PerfOrch";
    this.item.tooltip = `PerfOrch: ${problem}`;
    this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
    this.item.show();
    this.updatedEmitter.fire(this.item.text);
  }
}
