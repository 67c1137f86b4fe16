"""The redactor on its own: key shapes, the values of the user's key variables, caps; and the gateway's last
check before a request leaves, its cap on answers, and the privacy of the sandbox's output files."""

from __future__ import annotations

import logging
import stat
import sys

import pytest
from perforch.orchestration import redaction
from perforch.orchestration.agents import debug
from perforch.orchestration.checking.sandbox import open_sandbox
from perforch.orchestration.models import MAX_ANSWER_CHARS, ModelGateway, ModelSpec
from perforch.orchestration.redaction import MARKER, cap, excerpt, redact
from perforch.orchestration.task import Limits
from scripted_server import Reply, ScriptedServer

SHAPED = {
    "openai": "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
    "openai legacy": "sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
    "anthropic": "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5q-Rs8tUv",
    "google": "AIzaSyAb3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0",
    "github": "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0AbCd",
    "github fine-grained": "github_pat_11Ab3dEf6hIj9kLm2nOp5qRs8tUv",
    "slack": "xoxb-1234567890-Ab3dEf6hIj9kLm",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "hugging face": "hf_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy",
}


@pytest.mark.parametrize("kind", list(SHAPED))
def test_key_shapes_are_redacted_wherever_they_stand(kind: str) -> None:
    key = SHAPED[kind]
    for text in (f"key={key}", f"'{key}'", f"AssertionError: {key} != 3", f"{key}\n"):
        shown = redact(text)
        assert key not in shown and MARKER in shown, (kind, text, shown)


def test_credentials_after_a_scheme_or_header_name_go_and_the_name_stays() -> None:
    shown = redact(
        "Authorization: Bearer opaque.token-value_123\n"
        "headers={'authorization': 'Basic dXNlcjpwYXNzd29yZA=='}\n"
        "x-api-key: 0123456789abcdef\n"
        "sent with Bearer 9f8e7d6c5b4a39281706"
    )
    for secret in ("opaque.token-value_123", "dXNlcjpwYXNzd29yZA", "0123456789abcdef", "9f8e7d6c5b4a39281706"):
        assert secret not in shown, shown
    assert "Authorization: [redacted]" in shown and "x-api-key: [redacted]" in shown
    assert "Bearer [redacted]" in shown


def test_ordinary_text_and_code_are_left_alone() -> None:
    text = (
        "def tokenize(text):  # a basic function: the token count is the key to it\n"
        "    return text.split()  # Bearer of good news; skip-list; sk-8\n"
        "AssertionError: assert 3 == 4"
    )
    assert redact(text) == text


def test_values_of_the_users_key_variables_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "SOME_PROVIDER_API_KEY": "plain0value0one",
        "GITLAB_TOKEN": "glpat-plain-value-two",
        "DB_PASSWORD": "correct horse battery",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
        "HTTP_AUTHORIZATION": "Digest plain-value-five",
        "SIGNING_KEY": "plain-value-six",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FEATURE_KEY", "1")  # too short to be a secret: "1" must not vanish everywhere
    monkeypatch.setenv("SOME_PATH_SETTING", "/opt/tools/bin")  # not a secret's name
    text = " | ".join(secrets.values()) + " | 1 2 3 | /opt/tools/bin"

    shown = redact(text)
    assert not any(value in shown for value in secrets.values()), shown
    assert shown.count(MARKER) == len(secrets)
    assert shown.endswith("| 1 2 3 | /opt/tools/bin")


def test_a_variable_a_model_config_names_is_a_secret_whatever_its_name(
    monkeypatch: pytest.MonkeyPatch, scripted_server: ScriptedServer
) -> None:
    monkeypatch.setenv("ACME_LLM", "acme-value-0042")
    assert redact("acme-value-0042") == "acme-value-0042"  # not named like a secret: unknown so far
    ModelGateway([ModelSpec("acme", "openai/acme", {"api_base": scripted_server.base_url}, "ACME_LLM")])
    assert redact("got acme-value-0042") == f"got {MARKER}"
    monkeypatch.setenv("ACME_LLM", "acme-rotated-0043")  # read at each call: keys rotate
    assert redact("got acme-rotated-0043") == f"got {MARKER}"


def test_a_literal_key_in_a_models_params_is_a_secret() -> None:
    headers = {"Authorization": "Bearer params-literal-9876", "X-Trace": "trace-id-visible"}
    ModelGateway([ModelSpec("p", "openai/p", {"extra_headers": headers, "api_key": "params-api-key-5432"})])
    shown = redact("params-literal-9876 params-api-key-5432 trace-id-visible")
    assert shown == f"{MARKER} {MARKER} trace-id-visible"


def test_cap_keeps_head_and_tail_and_says_what_was_cut() -> None:
    text = "HEAD" + "x" * 100_000 + "TAIL"
    shown = cap(text, 4096)
    assert shown.startswith("HEAD") and shown.endswith("TAIL")
    assert f"[... {len(text) - 4096} characters cut ...]" in shown
    assert len(shown) < 4200
    assert cap("short", 4096) == "short"


def test_an_excerpt_leaves_no_fragment_of_a_secret_cut_in_two(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "Zq9Wx8Vu7Ts6Rq5Po4Nm3Lk2"
    monkeypatch.setenv("SPLIT_API_KEY", secret)
    limit = 4096
    for where in range(8 * limit - 20, 8 * limit + 4):  # around the first, coarse cut of a huge text
        text = "a" * where + secret + "b" * (40 * limit)
        shown = excerpt(text, limit)
        assert len(shown) < limit + 100
        assert not any(secret[i : i + 6] in shown for i in range(len(secret) - 5)), where


def test_log_records_are_redacted_tracebacks_included(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGGED_API_KEY", "logged-key-value-77")
    try:
        raise ValueError("failed with logged-key-value-77")
    except ValueError:
        record = logging.LogRecord("perforch", logging.ERROR, __file__, 1, "call %s", ("logged-key-value-77",), None)
        record.exc_info = sys.exc_info()
    shown = redaction.RedactingFormatter("%(message)s").format(record)
    assert "logged-key-value-77" not in shown and "ValueError: failed with [redacted]" in shown
    assert shown.startswith("call [redacted]\n")


def test_the_debug_prompt_carries_no_secret_and_no_runaway_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-debugprompt0123456789")
    failure = "AssertionError: sk-proj-debugprompt0123456789 ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0AbCd\n" * 1000
    candidate = "def f():\n" + "    x = 1\n" * 2_000_000  # a 20 MB "function"
    text = debug.build_messages("python", "def f(): ...", "f", candidate, failure, "")[1]["content"]
    assert "debugprompt" not in text and "ghp_" not in text and MARKER in text
    assert "characters cut" in text and len(text) < 25_000


# -- the gateway ---------------------------------------------------------------------------------------------


async def test_no_known_secret_leaves_in_a_request(
    monkeypatch: pytest.MonkeyPatch, scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GATEWAY_TEST_KEY", "gw-key-for-the-provider")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "another-providers-key-31337")
    monkeypatch.setenv("NAMED_BY_CONFIG", "config-named-secret-4242")
    other = ModelSpec("other", "openai/other", {"api_base": scripted_server.base_url}, "NAMED_BY_CONFIG")
    spec = ModelSpec("a", "openai/scripted-a", {"api_base": scripted_server.base_url}, "GATEWAY_TEST_KEY")
    gateway = ModelGateway([spec, other])
    prompt = "fix it: another-providers-key-31337 config-named-secret-4242 gw-key-for-the-provider sk-fixture-shaped"
    with caplog.at_level(logging.WARNING, logger="perforch"):
        await gateway.complete("a", [{"role": "system", "content": "x"}, {"role": "user", "content": prompt}])

    (request,) = scripted_server.requests
    sent = request.messages[1]["content"]
    assert sent == f"fix it: {MARKER} {MARKER} {MARKER} sk-fixture-shaped"  # a key-shaped fixture is the user's
    assert request.messages[0] == {"role": "system", "content": "x"}
    assert "$ANTHROPIC_API_KEY" in caplog.text and "$NAMED_BY_CONFIG" in caplog.text
    assert "31337" not in caplog.text and "4242" not in caplog.text


async def test_a_huge_answer_is_cut_before_anything_uses_it(
    monkeypatch: pytest.MonkeyPatch, scripted_server: ScriptedServer
) -> None:
    monkeypatch.setenv("GATEWAY_TEST_KEY", "gw-key-for-the-provider")
    scripted_server.set_policy(lambda model, messages: Reply("```python\n" + "# padding\n" * 2_000_000 + "```\n"))
    spec = ModelSpec("a", "openai/scripted-a", {"api_base": scripted_server.base_url}, "GATEWAY_TEST_KEY")
    completion = await ModelGateway([spec]).complete("a", [{"role": "user", "content": "write"}], timeout=60)
    assert len(completion.text) < MAX_ANSWER_CHARS + 100
    assert completion.text.startswith("```python") and completion.text.endswith("```\n")
    assert "characters cut" in completion.text


# -- the sandbox's scratch files -----------------------------------------------------------------------------


async def test_the_sandboxes_output_files_are_private() -> None:
    async with open_sandbox() as box:
        await box.build(["/bin/sh", "-c", "echo built"], seconds=5)
        await box.run(["/bin/sh", "-c", "echo ran"], Limits(wall_seconds=5), as_caller=True)
        await box.run(["/bin/sh", "-c", "echo ran"], Limits(wall_seconds=5))
        outputs = sorted(box.root.glob(".*.std*"))
        assert len(outputs) == 6
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in outputs}
    assert set(modes.values()) == {0o600}, modes
