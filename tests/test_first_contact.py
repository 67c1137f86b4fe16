"""A new user's first steps, through the real CLI and the real language server, with the scripted model server
over real HTTP and each example workspace's own toolchain: a config with nothing but `[models.*]` tables, a
model whose key is missing, answers that drop the user's modifiers or rename the function, and the messages a
user meets first (a directory, a bad line, a broken file, a read-only file)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KEY_ENV = "PERFORCH_TEST_KEY"
PYTHON_FILE = "textstats/core.py"
RIGHT_VOWELS = 'def count_vowels(text: str) -> int:\n    return sum(1 for ch in text.lower() if ch in "aeiou")\n'
WRONG_VOWELS = "def count_vowels(text: str) -> int:\n    return len(text)\n"


def _copy(tmp_path: Path, language: str) -> Path:
    root = tmp_path / language
    shutil.copytree(EXAMPLES / language, root, ignore=shutil.ignore_patterns("target", "build", "__pycache__"))
    return root


def _models_only(
    root: Path, server, answers: dict[str, str], language: str = "python", key_env: str = KEY_ENV, **pipeline
) -> None:
    """perforch.toml with one `[models.<alias>]` table per answer, in this order, and no `[pipeline].models`
    (only a generous test timeout, as the machine may be busy; `bare=True`: no [pipeline] at all). Each alias
    answers with its code; all classify."""
    tables = [
        f'[models.{alias}]\nmodel = "openai/{alias}"\napi_base = "{server.base_url}"\napi_key_env = "{key_env}"\n'
        for alias in answers
    ]
    if pipeline.pop("bare", False) is False:
        settings = {"test_timeout": 300.0, **pipeline}
        tables.append("[pipeline]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items()))
    (root / "perforch.toml").write_text("\n".join(tables))

    def policy(model: str, messages: list[dict]) -> str:
        if "classify" in messages[0]["content"]:
            return "string"
        return f"Sure.\n```{language}\n{answers[model]}```\n"

    server.set_policy(policy)


def _perforch(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perforch.cli", *args],
        cwd=cwd,
        env={**os.environ, KEY_ENV: "sk-test", **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


def _line_of(file: Path, name: str) -> int:
    """The 1-based line of the function's definition."""
    lines = file.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if f"{name}(" in line and not line.lstrip().startswith(("/", "#")))


# -- one [models.x] table is enough --------------------------------------------------------------------


@pytest.mark.slow
def test_generate_with_only_models_tables_asks_them_in_the_order_written(tmp_path, scripted_server):
    root = _copy(tmp_path, "python")
    # "wrong" is written first, so it is asked first (categorize too). Its draft fails, so (per-generator, the
    # default) the debuggers get it, in the order written: "wrong" again, then "right", which passes.
    _models_only(root, scripted_server, {"wrong": WRONG_VOWELS, "right": RIGHT_VOWELS}, bare=True)
    file = root / PYTHON_FILE
    run = _perforch("generate", str(file), "--line", str(_line_of(file, "count_vowels")), "--apply", "--json", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["passed"] and report["applied"] and report["tokens"] > 0, report
    assert report["models"]["categorize"] == "wrong" and report["models"]["debug"] == "right"
    tried = [(a["stage"], a["model"]) for a in report["trace"] if a["status"] != "answered"]
    assert list(dict.fromkeys(t for t in tried if t[0] in ("generate", "debug"))) == [
        ("generate", "wrong"),
        ("debug", "wrong"),
        ("debug", "right"),
    ]  # as written in perforch.toml
    own = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=root, capture_output=True, text=True, timeout=600)
    assert own.returncode == 0, own.stdout + own.stderr


@pytest.mark.slow
def test_optimize_with_only_a_models_table_asks_it(tmp_path, scripted_server):
    root = _copy(tmp_path, "python")
    _models_only(root, scripted_server, {"gpt": RIGHT_VOWELS})
    file = root / PYTHON_FILE
    # count_vowels finished the slow way: the example's quadratic has_duplicates took minutes of timing here.
    slow = "    return sum(1 for _ in range(50) for ch in text.lower() if ch in 'aeiou') // 50\n"
    file.write_text(file.read_text().replace("    raise NotImplementedError\n", slow, 1))
    run = _perforch("optimize", str(file), "--line", str(_line_of(file, "count_vowels")), "--json", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr  # kept or not (speed is measured), the run succeeds
    report = json.loads(run.stdout)
    refine = [a for a in report["trace"] if a["stage"] == "refine"]
    assert report["models"]["categorize"] == "gpt" and refine, report
    assert {a["model"] for a in refine} == {"gpt"} and any(a["status"] == "passed" for a in refine), refine


def test_a_missing_key_says_why_and_asks_nobody(tmp_path, scripted_server):
    root = _copy(tmp_path, "python")
    _models_only(root, scripted_server, {"gpt": RIGHT_VOWELS}, key_env="PERFORCH_ABSENT_KEY")
    file = root / PYTHON_FILE
    before = file.read_bytes()
    env = {key: value for key, value in os.environ.items() if key != "PERFORCH_ABSENT_KEY"}
    run = subprocess.run(
        [sys.executable, "-m", "perforch.cli", "generate", str(file), "--line", "4"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "no model to ask: [models.gpt]'s key PERFORCH_ABSENT_KEY is not set; set PERFORCH_ABSENT_KEY" in run.stderr
    assert "no passing version" not in run.stdout + run.stderr
    assert scripted_server.requests == [] and file.read_bytes() == before


def test_a_model_without_its_key_is_left_out_and_the_others_are_asked(tmp_path, scripted_server):
    root = _copy(tmp_path, "python")
    (root / "perforch.toml").write_text(
        f'[models.nokey]\nmodel = "openai/nokey"\napi_base = "{scripted_server.base_url}"\n'
        'api_key_env = "PERFORCH_ABSENT_KEY"\n\n'
        f'[models.keyed]\nmodel = "openai/keyed"\napi_base = "{scripted_server.base_url}"\napi_key_env = "{KEY_ENV}"\n'
    )
    shown = json.loads(_perforch("rankings", "--language", "python", "--json", cwd=root).stdout)
    categorize = next(c for c in shown["cells"] if c["stage"] == "categorize")
    assert categorize["your_order"] == ["keyed"]  # what a run asks, as `perforch rankings` shows it
    assert shown["left_out"] == ["[models.nokey]'s key PERFORCH_ABSENT_KEY is not set"]


def test_rankings_show_the_models_tables_in_the_order_written(tmp_path):
    (tmp_path / "perforch.toml").write_text(
        '[models.zeta]\nmodel = "openai/zeta"\n\n[models.alpha]\nmodel = "openai/alpha"\n'
    )
    shown = json.loads(_perforch("rankings", "--language", "rust", "--json", cwd=tmp_path).stdout)
    for cell in shown["cells"]:
        assert cell["your_order"] == ["zeta", "alpha"], cell  # every stage, categorize included


def test_a_perforch_toml_in_the_current_folder_that_is_not_read_says_so(tmp_path, scripted_server):
    clone = tmp_path / "clone"  # as a user at a clone's root tries the README's example there
    root = _copy(clone / "examples", "python")
    _models_only(clone, scripted_server, {"gpt": RIGHT_VOWELS})
    file = root / PYTHON_FILE
    # A line outside the file: bad input, refused before any model is asked, after the config is read.
    run = _perforch("generate", str(file.relative_to(clone)), "--line", "999", cwd=clone)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"./perforch.toml is not read: the settings come from the project's root {root}" in run.stderr
    assert "pass --config perforch.toml" in run.stderr

    shutil.move(clone / "perforch.toml", root / "perforch.toml")  # where the README says it is read
    run = _perforch("generate", str(PYTHON_FILE), "--line", "999", cwd=root)
    assert run.returncode == 2 and "is not read" not in run.stderr, run.stderr
    assert scripted_server.requests == []


# -- the user's signature survives an answer that drops its modifiers --------------------------------------

RUST_PUBLIC_API = (
    '#[test]\nfn counts_vowels_from_outside_the_crate() {\n    assert_eq!(textstats::count_vowels("Hello"), 2);\n}\n'
)
CPP_INLINE_STUB = (
    "\nnamespace textstats {\n/// The number of ASCII letters in text.\n[[nodiscard]] inline int count_letters("
    "const std::string& text) {\n    // TODO\n    return 0;\n}\n}  // namespace textstats\n"
)
CPP_LETTERS_TEST = (
    '\nTEST(TextStats, CountsLetters) {\n    EXPECT_EQ(textstats::count_letters("ab c1"), 3);\n'
    '    EXPECT_EQ(textstats::count_letters(""), 0);\n}\n'
)
# language: (file, function, an answer without the modifiers, what the file must still say, own test command)
DROPPED = {
    "rust": (
        "src/lib.rs",
        "count_vowels",
        'fn count_vowels(text: &str) -> usize {\n    text.chars().filter(|c| "aeiouAEIOU".contains(*c)).count()\n}\n',
        '/// Count the vowels (a, e, i, o, u, either case) in text.\n/// `count_vowels("Hello World") == 3`\n'
        "pub fn count_vowels(text: &str) -> usize {",
        ["cargo", "test", "--offline", "-q"],
    ),
    "java": (
        "src/main/java/example/TextStats.java",
        "countVowels",
        "int countVowels(String text) {\n    int n = 0;\n"
        '    for (char c : text.toLowerCase().toCharArray()) if ("aeiou".indexOf(c) >= 0) n++;\n    return n;\n}\n',
        '     * countVowels("Hello World") == 3\n     */\n    public static int countVowels(String text) {',
        ["mvn", "-o", "-q", "test"],
    ),
    "cpp": (
        "src/textstats.h",
        "count_letters",
        "int count_letters(const std::string& text) {\n    int n = 0;\n    for (char c : text) {\n"
        "        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) n++;\n    }\n    return n;\n}\n",
        "/// The number of ASCII letters in text.\n[[nodiscard]] inline int count_letters(const std::string& text) {",
        # The example's own count_vowels is a stub whose test fails until it is generated.
        [
            "sh",
            "-c",
            "cmake -S . -B build -G Ninja >/dev/null && cmake --build build && ctest --test-dir build -E Vowels",
        ],
    ),
}


def _with_a_reason_to_keep_the_modifier(root: Path, language: str) -> None:
    """Make dropping the modifier break the build: a test outside the Rust crate, a C++ inline function in a
    header that two translation units include (Java's test calls the static method already)."""
    if language == "rust":
        (root / "tests").mkdir()
        (root / "tests" / "public_api.rs").write_text(RUST_PUBLIC_API)
    if language == "cpp":
        with (root / "src" / "textstats.h").open("a") as header:
            header.write(CPP_INLINE_STUB)
        with (root / "tests" / "textstats_test.cpp").open("a") as tests:
            tests.write(CPP_LETTERS_TEST)


@pytest.mark.slow
@pytest.mark.parametrize("language", list(DROPPED))
def test_an_answer_that_drops_the_modifiers_keeps_the_users_signature(tmp_path, scripted_server, language):
    relative, name, answer, kept, own_tests = DROPPED[language]
    root = _copy(tmp_path, language)
    _with_a_reason_to_keep_the_modifier(root, language)
    _models_only(root, scripted_server, {"writer": answer}, language, refiners=0)
    file = root / relative
    run = _perforch("generate", str(file), "--line", str(_line_of(file, name)), "--apply", "--json", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["applied"] and report["models"]["generate"] == "writer", report
    assert kept in file.read_text()
    own = subprocess.run(own_tests, cwd=root, capture_output=True, text=True, timeout=900)
    assert own.returncode == 0, own.stdout + own.stderr


@pytest.mark.slow
def test_a_renamed_function_is_a_failed_attempt_that_the_debugger_is_told_about(tmp_path, scripted_server):
    root = _copy(tmp_path, "python")
    renamed = RIGHT_VOWELS.replace("count_vowels", "vowel_count")
    _models_only(root, scripted_server, {"renamer": renamed})
    file = root / PYTHON_FILE
    before = file.read_bytes()
    run = _perforch("generate", str(file), "--line", "4", "--json", cwd=root)
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads(run.stdout)
    (first,) = [a for a in report["trace"] if a["stage"] == "generate" and a["status"] != "answered"]
    reason = "the answer contains no function `count_vowels` (it defines `vowel_count`)"
    assert first["status"] == "invalid" and reason in first["detail"], first
    assert "the file declares `def count_vowels(text: str) -> int`" in first["detail"]
    debug_prompts = [r.messages[-1]["content"] for r in scripted_server.requests if "vowel_count" in str(r.messages)]
    assert any(reason in prompt for prompt in debug_prompts)  # the debugger sees why
    assert file.read_bytes() == before


# -- first messages ------------------------------------------------------------------------------------


def test_a_directory_is_not_a_file(tmp_path):
    root = _copy(tmp_path, "python")
    run = _perforch("generate", str(root / "textstats"), "--line", "4", cwd=root)
    assert run.returncode == 2
    assert "is a directory: give the source file that holds the function" in run.stderr
    assert "unsupported language" not in run.stderr


def test_a_file_of_no_supported_language_says_which_languages_are(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("count the vowels\n")
    run = _perforch("generate", str(notes), "--line", "1", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"{notes}: PerfOrch does not know the language of `.txt` files (Python .py, Java .java" in run.stderr


@pytest.mark.parametrize("line", ["0", "-5", "999"])
def test_a_line_outside_the_file_says_lines_start_at_1_and_how_many_there_are(tmp_path, line):
    root = _copy(tmp_path, "python")
    count = len((root / PYTHON_FILE).read_text().splitlines())
    run = _perforch("generate", str(root / PYTHON_FILE), "--line", line, cwd=root)
    assert run.returncode == 2
    assert f"line {line} is not in {root / PYTHON_FILE}" in run.stderr
    assert f"it has {count} lines (1 to {count})" in run.stderr
    assert ("numbered from 1" in run.stderr) == (int(line) < 1)
    assert "0-based" not in run.stderr


def test_bad_input_exits_2_like_bad_usage(tmp_path):
    outside = tmp_path / "alone" / "calc.py"
    outside.parent.mkdir()
    outside.write_text("def f(x):\n    pass\n")
    run = _perforch("generate", str(outside), "--line", "1", cwd=outside.parent)
    assert run.returncode == 2 and "is not inside a Python project" in run.stderr, run.stderr
    missing = _perforch("generate", str(tmp_path / "nothing.py"), "--line", "1", cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr


# language: (file, the text to break, the broken text, the function to write, what the message quotes)
BROKEN = {
    "python": (
        PYTHON_FILE,
        "def has_duplicates(values: list[int]) -> bool:",
        "def has_duplicates(values: list[int]) -> bool",
        "count_vowels",
        "def has_duplicates",
    ),
    "rust": ("src/lib.rs", "values[i] == values[j]", "values[i] == == values[j]", "count_vowels", "== =="),
    "java": ("src/main/java/example/TextStats.java", "return false;", "return false", "countVowels", "return false"),
    "go": ("textstats.go", "return false", "return false +", "CountVowels", "return false +"),
    "cpp": ("src/textstats.cpp", "return false;", "return false", "count_vowels", "return false"),
}


@pytest.mark.parametrize("language", list(BROKEN))
def test_a_syntax_error_elsewhere_is_the_users_and_no_model_is_asked(tmp_path, scripted_server, language):
    relative, good, bad, name, quoted = BROKEN[language]
    root = _copy(tmp_path, language)
    _models_only(root, scripted_server, {"writer": "unused"}, language)
    file = root / relative
    text = file.read_text()
    assert good in text
    file.write_text(text.replace(good, bad, 1))
    broken_line = next(i for i, line in enumerate(file.read_text().splitlines(), 1) if bad in line)
    run = _perforch("generate", str(file), "--line", str(_line_of(file, name)), cwd=root)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"{file}:{broken_line}:" in run.stderr and "syntax error" in run.stderr, run.stderr
    assert f"outside `{name}`" in run.stderr and quoted in run.stderr
    assert scripted_server.requests == []


def test_a_read_only_file_is_refused_before_any_model_is_asked(tmp_path, scripted_server):
    root = _copy(tmp_path, "python")
    _models_only(root, scripted_server, {"writer": RIGHT_VOWELS})
    file = root / PYTHON_FILE
    file.chmod(0o444)
    before = file.read_bytes()
    run = _perforch("generate", str(file), "--line", "4", "--apply", cwd=root)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"{file} is read-only (mode -r--r--r--); it was not changed" in run.stderr
    assert scripted_server.requests == [] and file.read_bytes() == before and stat.S_IMODE(file.stat().st_mode) == 0o444


@pytest.mark.slow
def test_apply_refuses_a_file_made_read_only_during_the_run_and_keeps_an_owner(tmp_path, scripted_server, model_key):
    import asyncio

    from perforch.orchestration.config import load_config
    from perforch.orchestration.proposal import NotWritable, apply, propose
    from perforch.orchestration.rankings.router import Router

    root = _copy(tmp_path, "python")
    _models_only(root, scripted_server, {"writer": RIGHT_VOWELS}, refiners=0)
    file = root / PYTHON_FILE
    config = load_config(root)
    proposal = asyncio.run(propose("generate", file, 4, config, Router.configured(config)))
    assert proposal.proposed is not None
    file.chmod(0o444)
    with pytest.raises(NotWritable, match="read-only"):
        apply(proposal)
    assert "NotImplementedError" in file.read_text()

    file.chmod(0o640)
    if os.geteuid() == 0:  # as root, a user's file stays the user's
        os.chown(file, 65534, 65534)
    apply(proposal)
    status = file.stat()
    assert "NotImplementedError" not in file.read_text() and stat.S_IMODE(status.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (status.st_uid, status.st_gid) == (65534, 65534)


# -- the language server -------------------------------------------------------------------------------

SERVER = [sys.executable, "-m", "perforch.cli", "serve"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    root = request.getfixturevalue("tmp_path")
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="tmp")],
        initialization_options={"applyPrompt": False},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def model_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the server starts: it inherits the environment."""
    monkeypatch.setenv(KEY_ENV, "sk-test")


def _open(client: LanguageClient, file: Path) -> str:
    uri = file.as_uri()
    item = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=file.read_text())
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
    return uri


async def _execute(client: LanguageClient, command: str, *arguments) -> dict:
    params = types.ExecuteCommandParams(command=command, arguments=list(arguments))
    return await client.workspace_execute_command_async(params)


@pytest.mark.slow
async def test_the_language_server_asks_the_models_tables_and_refuses_a_read_only_apply(
    model_key, client, tmp_path, scripted_server
):
    root = _copy(tmp_path, "python")
    _models_only(root, scripted_server, {"writer": RIGHT_VOWELS})
    file = root / PYTHON_FILE
    uri = _open(client, file)
    result = await _execute(client, "perforch.generate", uri, {"line": 3, "character": 4}, 1)
    assert result["status"] == "done" and result["passed"], result
    assert result["models"]["categorize"] == "writer" and result["models"]["generate"] == "writer"

    file.chmod(0o444)
    refused = await _execute(client, "perforch.apply", result["id"], True)
    assert refused["status"] == "refused" and "is read-only" in refused["message"], refused
    assert "NotImplementedError" in file.read_text()


async def test_the_language_server_refuses_a_job_whose_only_model_has_no_key(client, tmp_path, scripted_server):
    root = _copy(tmp_path, "python")
    _models_only(root, scripted_server, {"gpt": RIGHT_VOWELS}, key_env="PERFORCH_ABSENT_KEY")
    uri = _open(client, root / PYTHON_FILE)
    result = await _execute(client, "perforch.generate", uri, {"line": 3, "character": 4}, 1)
    assert result["status"] == "refused", result
    assert "no model to ask: [models.gpt]'s key PERFORCH_ABSENT_KEY is not set" in result["message"]
    assert scripted_server.requests == []


def test_a_run_in_which_no_model_answered_says_so(tmp_path):
    root = _copy(tmp_path, "python")
    (root / "perforch.toml").write_text(
        f'[models.down]\nmodel = "openai/down"\napi_base = "http://127.0.0.1:9/v1"\napi_key_env = "{KEY_ENV}"\n'
        "[pipeline]\nmodel_timeout = 5.0\ndebuggers = 0\nrefiners = 0\n"
    )
    run = _perforch("generate", str(root / PYTHON_FILE), "--line", "4", cwd=root)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no model answered (down: " in run.stdout and "no passing version" not in run.stdout, run.stdout
