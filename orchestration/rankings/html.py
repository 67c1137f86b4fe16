"""`perforch rankings --html FILE`: the ranking matrix as a self-contained page (inline CSS, no scripts, no
external assets), one heat map per stage (models x languages), one per stage and language with category
cells (models x categories), and the provenance of every cell.

Colours compare models within one column only: a source's numbers are not comparable across languages.
"""

from __future__ import annotations

from html import escape

from ..languages import LANGUAGES
from ..task import ANY_CATEGORY, STAGES
from .learning import Explained
from .matrix import STAGE_FALLBACK, Cell, RankedModel, RankingMatrix, canonical_model
from .view import RankingsView

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; margin: 24px auto;
       max-width: 1180px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #555; margin: 2px 0; }
table.heat { border-collapse: collapse; margin: 8px 0 4px; }
table.heat th, table.heat td { border: 1px solid #d5d9e0; padding: 4px 8px; text-align: center; }
table.heat th.model, table.heat td.model { text-align: left; font-family: ui-monospace, monospace; font-size: 12.5px; }
table.heat td.empty { color: #aaa; background: #fafafa; }
td .rank { font-size: 11px; opacity: .8; }
td.moved { outline: 2px solid #d9822b; outline-offset: -3px; }
.yours { font-weight: 600; } .alias { color: #0b6e4f; font-family: system-ui, sans-serif; font-size: 12px; }
.legend { font-size: 12px; color: #555; } .fallback { color: #666; font-style: italic; }
ul.prov { font-size: 12.5px; } details { margin: 8px 0; font-size: 12.5px; }
"""


def render(view: RankingsView) -> str:
    matrix = view.matrix
    p = view.prior.provenance
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>PerfOrch rankings: {escape(view.name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>PerfOrch rankings: profile <code>{escape(view.name)}</code></h1>",
        f'<p class="meta">{escape(p.benchmark or "no benchmark named")} (collected {escape(p.date or "-")})</p>',
        f'<p class="meta">{escape(view.learning_line())}</p>',
        '<p class="legend">Each column is coloured on its own (darker = better within that language and source); '
        "the number is the score, the small one the rank. An orange frame marks a score the user's outcomes moved. "
        "Hover a cell for its provenance.</p>",
    ]
    for stage in STAGES:
        parts += _stage_section(view, stage)
    parts += _provenance_section(view, matrix)
    parts.append("</body></html>")
    return "\n".join(parts)


def _stage_section(view: RankingsView, stage: str) -> list[str]:
    matrix = view.matrix
    columns = [lang for lang in LANGUAGES if (stage, lang, ANY_CATEGORY) in matrix.cells]
    parts = [f"<h2>{escape(stage)}</h2>"]
    if not columns:
        fallback = STAGE_FALLBACK.get(stage)
        why = f"falls back to the {fallback} order" if fallback else "the configured order applies"
        parts.append(f'<p class="fallback">No ranking for any language: {escape(why)}.</p>')
        return parts
    parts.append(_heat_table(view, [(stage, lang, ANY_CATEGORY) for lang in columns], columns))
    for language in LANGUAGES:
        categories = sorted(c for (s, lang, c) in matrix.cells if s == stage and lang == language and c != ANY_CATEGORY)
        if categories:
            parts.append(f"<h3>{escape(stage)} · {escape(language)} by category</h3>")
            parts.append(_heat_table(view, [(stage, language, c) for c in categories], categories))
    return parts


def _heat_table(view: RankingsView, cells: list[Cell], headers: list[str]) -> str:
    matrix = view.matrix
    models = list(dict.fromkeys(r.model for cell in cells for r in matrix.cells[cell]))
    models.sort(key=lambda m: -max((r.score for cell in cells for r in matrix.cells[cell] if r.model == m), default=0))
    aliases = _aliases(view)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    rows = [f'<table class="heat"><tr><th class="model">model</th>{head}</tr>']
    for model in models:
        names = aliases.get(model, [])
        label = escape(model) + (f' <span class="alias">your {escape(", ".join(names))}</span>' if names else "")
        row = f'<tr><td class="model{" yours" if names else ""}">{label}</td>'
        row += "".join(_heat_cell(view, cell, model) for cell in cells)
        rows.append(row + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _heat_cell(view: RankingsView, cell: Cell, model: str) -> str:
    ranking = view.matrix.cells[cell]
    entry = next((r for r in ranking if r.model == model), None)
    if entry is None:
        return '<td class="empty">–</td>'
    rank = ranking.index(entry) + 1
    explained = {e.model: e for e in view.explain(cell)} if view.learner else {}
    moved = model in explained and explained[model].moved
    tip = _tooltip(view, cell, entry, explained.get(model))
    shade = _relative(entry.score, [r.score for r in ranking])
    lightness = 96 - 52 * shade
    colour = "#fff" if lightness < 62 else "#1d2330"
    style = f"background:hsl(212,62%,{lightness:.0f}%);color:{colour}"
    css = ' class="moved"' if moved else ""
    return f'<td{css} style="{style}" title="{escape(tip)}">{entry.score:.3f} <span class="rank">#{rank}</span></td>'


def _relative(score: float, scores: list[float]) -> float:
    low, high = min(scores), max(scores)
    return (score - low) / (high - low) if high > low else 1.0


def _tooltip(view: RankingsView, cell: Cell, entry: RankedModel, explained: Explained | None) -> str:
    source = view.matrix.provenance_of(cell)
    lines = [entry.source_name or entry.model, f"{source.source} · {source.table}", f"{source.metric} · {source.date}"]
    if entry.samples:
        lines.append(f"samples: {entry.samples}")
    if explained is not None and explained.trials:
        prior = f"{explained.prior:.3f}" if explained.prior is not None else "none"
        lines.append(f"prior {prior}, local {explained.passes:g}/{explained.trials:g} passed -> {explained.score:.3f}")
    return "\n".join(lines)


def _aliases(view: RankingsView) -> dict[str, list[str]]:
    """litellm id -> the user's names for it."""
    found: dict[str, list[str]] = {}
    for name in view.available or []:
        found.setdefault(canonical_model(name, view.ids), []).append(name)
    return found


def _provenance_section(view: RankingsView, matrix: RankingMatrix) -> list[str]:
    by_source: dict[tuple, list[str]] = {}
    for cell in sorted(matrix.cells):
        s = matrix.provenance_of(cell)
        label = f"{cell[0]} · {cell[1]}" + ("" if cell[2] == ANY_CATEGORY else f" · {cell[2]}")
        by_source.setdefault((s.source, s.table, s.metric, s.date, s.url), []).append(label)
    parts = ["<h2>Provenance</h2>", '<ul class="prov">']
    for (source, table, metric, date, url), cells in by_source.items():
        link = f' <a href="{escape(url)}">{escape(url)}</a>' if url else ""
        parts.append(
            f"<li><b>{escape(source or 'unnamed source')}</b>; {escape(table)}; {escape(metric)}; {escape(date)}"
            f"{link}<br>cells: {escape(', '.join(cells))}</li>"
        )
    parts.append("</ul>")
    p = view.prior.provenance
    if p.notes:
        parts.append("<h3>Notes</h3><ul class='prov'>" + "".join(f"<li>{escape(n)}</li>" for n in p.notes) + "</ul>")
    if p.dropped:
        items = "".join(f"<li>{escape(d)}</li>" for d in p.dropped)
        parts.append(f"<details><summary>{len(p.dropped)} models left out, and why</summary><ul>{items}</ul></details>")
    return parts
