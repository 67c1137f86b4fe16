// The full ranking matrix of one language in a webview: per stage, categories x rank, each cell the model
// with its score and sample count, shaded by score within the row (a heat map), and the profile's provenance.
// Static HTML in the theme's colours: no scripts, a strict content security policy.
import * as vscode from "vscode";
import { ANY_CATEGORY, type RankingCell, type Rankings, type Routing, type Status, order, sessionCost } from "./rankings";

const STAGE_ORDER = ["categorize", "generate", "debug", "refine"];

export class RankingsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  html = ""; // what the panel shows now (the tests read it)

  show(language: string, rankings: Rankings, status: Status | undefined, routing?: Routing): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel("perforch.rankings", "", vscode.ViewColumn.Beside, {
        enableScripts: false,
        enableFindWidget: true,
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
    }
    this.panel.title = `PerfOrch ranking: ${language}`;
    this.html = render(language, rankings, status, routing);
    this.panel.webview.html = this.html;
    this.panel.reveal(undefined, false);
  }

  get visible(): boolean {
    return this.panel?.visible ?? false;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

export function render(language: string, rankings: Rankings, status: Status | undefined, routing?: Routing): string {
  const p = rankings.provenance;
  const stages = STAGE_ORDER.filter((stage) => stage !== "categorize" || rankings.cells.some((c) => c.stage === stage));
  const mine = new Set((routing?.models ?? []).flatMap((m) => [m.alias, m.model]));
  const sections = stages.map((stage) => stageSection(stage, language, rankings, mine));
  const learning = rankings.learning.enabled
    ? `learned from ${rankings.learning.observations ?? 0} outcomes on this machine (prior weight ${rankings.learning.prior_weight}, a cell moves after ${rankings.learning.min_observations})`
    : "learning off";
  const session = status ? `<p class="meta">This session: ${status.tokens} tokens, ${esc(sessionCost(status))}.</p>` : "";
  const why = routing?.why ? `<p class="why"><b>Why ${esc(routing.model)}?</b> ${esc(routing.why)}${routing.config ? ` (config: <code>${esc(routing.config)}</code>)` : ""}</p>` : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
<style>${STYLE}</style></head><body>
<h1>PerfOrch ranking: ${esc(language)}</h1>
${why}
<p class="meta">Profile <code>${esc(rankings.profile)}</code>: ${esc(p.benchmark || "no benchmark named")} (${esc(p.date || "undated")})${p.metric ? `; metric: ${esc(p.metric)}` : ""}; ${esc(learning)}.</p>
${session}
<p class="legend">Each row is a problem category (<code>*</code>: the language overall). <b>Your order</b> is what a job asks, first to last; the ranked columns follow, your models in bold, the others (not configured here) dimmed. Shade compares scores within a row. <b>n</b> = samples behind the score.</p>
${sections.join("\n")}
<h2>Provenance</h2>
<ul class="prov">${[...p.notes.map((n) => `<li>${esc(n)}</li>`), p.models.length ? `<li>models profiled: ${p.models.map(esc).join(", ")}</li>` : ""].join("")}</ul>
${p.dropped.length ? `<details><summary>${p.dropped.length} models dropped</summary><ul>${p.dropped.map((d) => `<li>${esc(d)}</li>`).join("")}</ul></details>` : ""}
</body></html>`;
}

function stageSection(stage: string, language: string, rankings: Rankings, mine: Set<string>): string {
  const cells = rankings.cells
    .filter((cell) => cell.stage === stage && cell.language === language)
    .sort((a, b) => (a.category === ANY_CATEGORY ? -1 : b.category === ANY_CATEGORY ? 1 : a.category.localeCompare(b.category)));
  if (!cells.length) {
    const fallback = rankings.stage_fallback[stage];
    return `<h2>${esc(stage)}</h2><p class="fallback">No ranking of its own${fallback ? `: uses the ${esc(fallback)} ranking` : ""}.</p>`;
  }
  const width = Math.max(1, ...cells.map((cell) => cell.ranking.length));
  const head = `<tr><th>category</th><th>your order</th>${Array.from({ length: width }, (_, i) => `<th>#${i + 1}</th>`).join("")}</tr>`;
  const rows = cells.map((cell) => row(cell, width, mine));
  return `<h2>${esc(stage)}</h2><table class="heat">${head}${rows.join("")}</table>`;
}

function row(cell: RankingCell, width: number, mine: Set<string>): string {
  const scores = cell.ranking.map((entry) => entry.score);
  const [low, high] = [Math.min(...scores), Math.max(...scores)];
  const source = cell.provenance ? Object.entries(cell.provenance).filter(([, v]) => v !== "" && v !== null).map(([k, v]) => `${k}: ${String(v)}`).join("; ") : "";
  const cols = Array.from({ length: width }, (_, i) => {
    const entry = cell.ranking[i];
    if (!entry) {
      return `<td class="empty"></td>`;
    }
    const shade = high > low ? Math.round(15 + (60 * (entry.score - low)) / (high - low)) : 45;
    const whose = mine.has(entry.model) ? "mine" : mine.size ? "notmine" : "";
    return `<td class="${whose}" style="background: color-mix(in srgb, var(--vscode-charts-green) ${shade}%, transparent)" title="${esc(source)}"><span class="model">${esc(entry.model)}</span><br><span class="score">${fmt(entry.score)}</span> <span class="n">n=${entry.samples}</span></td>`;
  });
  const yours = order(cell).join(" → ");
  if (!cell.ranking.length) {
    const note = cell.fallback ? `no scores of its own: ${cell.fallback}` : "no scores of its own";
    return `<tr><th class="cat">${esc(cell.category)}</th><td class="yours">${esc(yours)}</td><td class="fallback" colspan="${width}">${esc(note)}</td></tr>`;
  }
  return `<tr><th class="cat">${esc(cell.category)}</th><td class="yours">${esc(yours)}</td>${cols.join("")}</tr>`;
}

function fmt(score: number): string {
  return Math.abs(score) <= 1 ? score.toFixed(3) : score.toFixed(1);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] as string);
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 24px; }
h1 { font-size: 1.4em; margin-bottom: 4px; } h2 { font-size: 1.1em; margin: 20px 0 6px; text-transform: capitalize; }
.meta, .legend { color: var(--vscode-descriptionForeground); margin: 2px 0; } .legend { font-size: .9em; }
table.heat { border-collapse: collapse; }
table.heat th, table.heat td { border: 1px solid var(--vscode-panel-border, #8884); padding: 3px 8px; text-align: center; vertical-align: top; }
th.cat { text-align: left; font-weight: 600; }
.model { font-family: var(--vscode-editor-font-family); font-size: .92em; }
.score { font-variant-numeric: tabular-nums; } .n { color: var(--vscode-descriptionForeground); font-size: .85em; }
td.yours { text-align: left; font-family: var(--vscode-editor-font-family); font-size: .9em; }
td.empty { opacity: .3; } td.mine .model { font-weight: 700; } td.notmine { opacity: .45; }
td.yours { font-weight: 600; } .why { margin: 6px 0; } .fallback { font-style: italic; color: var(--vscode-descriptionForeground); }
ul.prov, details { font-size: .9em; }
`;
