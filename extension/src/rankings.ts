// The ranking in force, as the server's perforch/rankings answers it (rankings/view.py, as_json), and the
// status-bar item: the model a job on the active file would ask first, as the server's perforch/routing answers
// it (the same config as the job: the perforch.toml nearest the file), with the problem's category once a job
// has found it; each stage's order, why that model, and the session's tokens and cost in its tooltip; a warning
// when a key is missing or perforch.toml is broken, and a click that fixes it.
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
  unpriced_calls?: number;
}

/** perforch/routing (server/routing.py): what a job on one file would ask, and what stops it. */
export interface Routing {
  language: string;
  config: string | null;
  order: Record<string, string[]>;
  model: string;
  profile: string;
  why: string;
  missing_keys: string[];
  models: { alias: string; model: string; key_env: string; key_set: boolean }[];
  left_out: string[];
  problem: string;
  problem_kind: "" | "config" | "missing_key" | "no_model";
}

/** The session's cost as words: never "$0.0000" for calls with no known price. */
export function sessionCost(status: Status): string {
  const unpriced = status.unpriced_calls ?? 0;
  if (status.tokens === 0 && status.cost_usd === 0) {
    return "nothing spent yet";
  }
  if (unpriced && status.cost_usd === 0) {
    return "cost unpriced";
  }
  return `$${status.cost_usd.toFixed(4)}${unpriced ? ` + ${unpriced} unpriced calls` : ""}`;
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
  private readonly routes = new Map<string, Routing>(); // document uri (and category) -> its routing
  routing: Routing | undefined; // the one shown
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
    this.routes.clear();
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

  /** The ranking in force for a language, with the config a job on `uri` reads (its models first). */
  async rankings(language: string, uri?: string): Promise<Rankings> {
    const key = `${language} ${uri ?? ""}`;
    const cached = this.cache.get(key);
    if (cached) {
      return cached;
    }
    const fresh = (await this.client.running().sendRequest("perforch/rankings", uri ? { language, uri } : { language })) as Rankings;
    this.cache.set(key, fresh);
    return fresh;
  }

  /** What a job on the document would ask (server/routing.py). */
  async routeFor(uri: string): Promise<Routing> {
    const category = this.categories.get(uri) ?? ANY_CATEGORY;
    const key = `${uri} ${category}`;
    const cached = this.routes.get(key);
    if (cached) {
      return cached;
    }
    const fresh = (await this.client.running().sendRequest("perforch/routing", { uri, category })) as Routing;
    this.routes.set(key, fresh);
    return fresh;
  }

  async update(): Promise<void> {
    const generation = ++this.generation;
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      return; // a webview or panel has the focus: keep showing the last file's route
    }
    const language = this.languageOf(editor);
    if (!language || editor.document.uri.scheme !== "file") {
      if (editor.document.uri.scheme === "file") {
        this.item.hide();
      }
      return;
    }
    if (this.client.state !== "running") {
      this.showProblem(this.client.problem || `server ${this.client.state}`);
      return;
    }
    try {
      const uri = editor.document.uri.toString();
      const [routing, status] = await Promise.all([this.routeFor(uri), this.sessionStatus()]);
      if (generation !== this.generation) {
        return;
      }
      this.status = status;
      this.routing = routing;
      this.show(routing, this.categories.get(uri) ?? ANY_CATEGORY);
    } catch (error) {
      if (generation === this.generation) {
        this.showProblem(String((error as Error).message ?? error));
      }
    }
  }

  private show(routing: Routing, category: string): void {
    const where = category === ANY_CATEGORY ? routing.language : `${routing.language}/${category}`;
    this.item.tooltip = this.tooltip(routing, where);
    if (routing.problem_kind === "config") {
      this.warn("$(warning) PerfOrch: perforch.toml broken", { title: "Open perforch.toml", command: "perforch.openConfig", arguments: [routing.config ?? undefined] });
    } else if (routing.problem_kind === "missing_key") {
      this.warn(`$(key) PerfOrch: set ${routing.missing_keys[0]}`, { title: "Set API key", command: "perforch.setApiKey", arguments: [routing.missing_keys[0]] });
    } else if (routing.problem_kind) {
      this.warn("$(warning) PerfOrch: no model", { title: "Configure models", command: "perforch.configureModels" });
    } else {
      const partly = routing.missing_keys.length > 0;
      this.item.text = `${partly ? "$(warning)" : "$(sparkle)"} PerfOrch: ${routing.model}`;
      this.item.command = "perforch.showRankings";
      this.item.backgroundColor = partly ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    }
    this.item.accessibilityInformation = { label: `PerfOrch: a job on this file asks ${routing.model || "no model"} first for ${where}` };
    this.item.show();
    this.updatedEmitter.fire(this.item.text);
  }

  private warn(text: string, command: vscode.Command): void {
    this.item.text = text;
    this.item.command = command;
    this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
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

  private tooltip(routing: Routing, where: string): vscode.MarkdownString {
    const lines = [`**PerfOrch** for ${where}: ${routing.config ? `\`${routing.config}\`` : "no perforch.toml (editor settings and defaults)"}`];
    if (routing.problem) {
      lines.push("", `$(warning) ${routing.problem}`);
    } else {
      lines.push("", `Why this model? ${routing.why}`, "", "| stage | 1st | 2nd | 3rd |", "|---|---|---|---|");
      for (const stage of SHOWN_STAGES) {
        const models = (routing.order[stage] ?? []).slice(0, 3);
        lines.push(`| ${stage} | ${[0, 1, 2].map((i) => (models[i] ? `\`${models[i]}\`` : "")).join(" | ")} |`);
      }
    }
    for (const reason of routing.left_out) {
      lines.push("", `$(warning) ${reason}: left out (PerfOrch: Set API key)`);
    }
    if (this.status) {
      lines.push("", `Session: ${this.status.tokens} tokens, ${sessionCost(this.status)}`);
    }
    lines.push("", routing.problem ? "Click to fix it." : `Click for the ranking (profile \`${routing.profile}\`).`);
    const markdown = new vscode.MarkdownString(lines.join("\n"));
    markdown.supportThemeIcons = true;
    return markdown;
  }

  private showProblem(problem: string): void {
    this.item.command = "perforch.showLog";
    this.item.text = "$(warning) PerfOrch";
    this.item.tooltip = `PerfOrch: ${problem}`;
    this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
    this.item.show();
    this.updatedEmitter.fire(this.item.text);
  }
}
