"""`perforch rankings`: the published orders with provenance, the user's models in that order, --explain,
and the --html page rendered by headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from perforch.orchestration.rankings.outcomes import ModelOutcome, OutcomeStore

# Two published models whose order differs between the languages: DeepSeek leads Java, o3 leads Rust.
TWO_MODELS = """
[models.ds]
model = "deepseek/deepseek-chat"
[models.best]
model = "openai/o3-2025-04-16"
"""


# A user with a provider key and no [models]: a run routes by the configured (published) profile, over the
# models that key reaches, rather than falling back to the bundled local model.
A_PROVIDER_KEY = {"DEEPSEEK_API_KEY": "not-a-real-key"}


def perforch(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "perforch.cli", "rankings", *args]
    env = {**os.environ, **(env or {})}
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done


def _generate_row(shown: dict) -> dict:
    return next(c for c in shown["cells"] if c["stage"] == "generate" and c["category"] == "*")


@pytest.mark.parametrize(
    ("language", "first", "yours"),
    [("java", "deepseek/deepseek-chat", ["ds", "best"]), ("rust", "o3-2025-04-16", ["best", "ds"])],
)
def test_published_order_with_provenance_and_the_users_two_models_in_it(tmp_path, language, first, yours):
    text = perforch("--language", language, cwd=tmp_path, env=A_PROVIDER_KEY).stdout
    assert f"\n{language}\n" in text
    generate = text.split("  generate (all categories): ", 1)[1]
    assert generate.startswith("AutoCodeBench") and "Table 4" in generate and "2025-08" in generate
    assert generate.split("\n")[1].split()[:2] == ["1.", first]
    assert "  debug (all categories): MdEval" in text
    assert "refine (all categories): no ranking; falls back to the generate order" in text

    (tmp_path / "perforch.toml").write_text(TWO_MODELS, encoding="utf-8")
    shown = json.loads(perforch("--language", language, "--json", cwd=tmp_path).stdout)
    row = _generate_row(shown)
    assert row["ranking"][0]["model"] == first and row["provenance"]["table"].startswith("Table 4")
    assert row["your_order"] == yours
    refine = next(c for c in shown["cells"] if c["stage"] == "refine")
    assert refine["ranking"] == [] and refine["your_order"] == yours  # the generate order, as documented
    assert f"your models, in this order: {', '.join(yours)}" in perforch("--language", language, cwd=tmp_path).stdout


def test_your_order_ends_with_the_configured_models_the_ranking_does_not_know(tmp_path):
    mine = '[models.mine]\nmodel = "openai/mine"\n[pipeline]\nmodels = ["mine"]\n'
    (tmp_path / "perforch.toml").write_text(TWO_MODELS + mine, encoding="utf-8")
    shown = json.loads(perforch("--language", "java", "--json", cwd=tmp_path).stdout)
    assert _generate_row(shown)["your_order"] == ["ds", "best", "mine"]  # as the pipeline tries them
    categorize = next(c for c in shown["cells"] if c["stage"] == "categorize")
    # The configured order applies: [pipeline].models first, then the other aliases as the file writes them.
    assert categorize["ranking"] == [] and categorize["your_order"] == ["mine", "ds", "best"]


def test_with_no_model_and_no_key_the_order_shown_is_the_local_fallback_a_run_uses(tmp_path):
    from perforch.orchestration.config import load_config
    from perforch.orchestration.rankings.router import Router

    shown = json.loads(perforch("--language", "python", "--json", cwd=tmp_path).stdout)
    router = Router.configured(load_config(tmp_path))  # what a run in this folder routes by
    assert router.available == ("local/smollm2",), "the local extra is installed (.ci/install)"
    assert shown["profile"] == router.profile == "local-smollm2"
    row = _generate_row(shown)
    assert row["your_order"] == router.order("generate", "python") == ["local/smollm2"]


def _learned(data_dir: Path) -> None:
    """Outcomes that flip Rust generation (gpt-5 over o3) and fill one Python category cell."""
    runs = [("rust", "*", "gpt-5-2025-08-07", 9, 1), ("rust", "*", "o3-2025-04-16", 3, 7)]
    runs += [("python", "string", "o4-mini-2025-04-16", 8, 0)]
    outcomes = [
        ModelOutcome("generate", lang, cat, model, model, ok, 1, None, 100)
        for lang, cat, model, passed, failed in runs
        for ok in [True] * passed + [False] * failed
    ]
    OutcomeStore(data_dir / "outcomes.sqlite3").add(outcomes)


def test_explain_shows_prior_outcomes_and_order_and_learn_false_ignores_them(tmp_path, isolated_user_data):
    _learned(isolated_user_data)
    explained = perforch("--language", "rust", "--explain", cwd=tmp_path, env=A_PROVIDER_KEY).stdout
    assert "learning: on, 28 local outcomes" in explained
    assert "order: gpt-5-2025-08-07, o4-mini-2025-04-16," in explained  # o3 fell below untried models
    o3_lines = [line for line in explained.splitlines() if line.strip().startswith("o3-2025-04-16")]
    assert o3_lines[0].split()[1:4] == ["0.361", "-", "209"]  # the blended score, no profiled rate, samples
    o3 = o3_lines[1]
    # prior, weight, passed/trials, the user's accepts and rejects, the posterior
    assert o3.split()[1:7] == ["0.422", "10", "3/10", "0", "0", f"{(4.22 + 3) / 20:.3f}"] and o3.endswith("moved")
    assert "left out (69):" in explained and "refine: no per-language efficiency figures" in explained

    (tmp_path / "perforch.toml").write_text("[pipeline]\nlearn = false\n", encoding="utf-8")
    off = perforch("--language", "rust", cwd=tmp_path, env=A_PROVIDER_KEY).stdout
    assert "learning: off" in off and off.split("generate (all categories)")[1].split("\n")[1].split()[1] == (
        "o3-2025-04-16"
    )


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_html_page_is_self_contained_and_renders_in_headless_chromium(tmp_path, isolated_user_data):
    _learned(isolated_user_data)
    (tmp_path / "perforch.toml").write_text(TWO_MODELS, encoding="utf-8")
    page = tmp_path / "rankings.html"
    perforch("--html", str(page), cwd=tmp_path)
    html = page.read_text(encoding="utf-8")
    for external in ("<script", "<link", "src=", "@import", "url("):
        assert external not in html
    assert html.count('<table class="heat">') == 3  # generate, debug, python generate by category
    assert 'class="moved"' in html and "AutoCodeBench" in html and "models left out" in html

    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/install installs it")
        pytest.skip("no chromium on this machine (apt-get install -y chromium)")
    shot = tmp_path / "rankings.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--hide-scrollbars",
        "--window-size=1280,1900",
        f"--screenshot={shot}",
    ]
    done = subprocess.run([browser, *flags, page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a drawn page, not a blank one
    docs_copy = os.environ.get("PERFORCH_DOCS_SCREENSHOT")  # set to docs/rankings.png to refresh the docs
    if docs_copy:
        shutil.copyfile(shot, docs_copy)
