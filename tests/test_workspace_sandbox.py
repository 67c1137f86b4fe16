"""Workspace candidates stay in their box: a scripted hostile model, through the real CLI, real HTTP and the
workspace's own toolchain, answers with code that attacks when the workspace's tests run it.

The attack (writes through the shadow copy and outside it, reads of the user's config, a connection to the
model server, a daemon, a fork storm, a huge file) reports what it managed in its failure message, which
PerfOrch passes to the next model: the scripted server records it. Afterwards the user's tree is
byte-identical with its modes, nothing was written outside the candidate's scratch space, no key reached the
candidate or a model, nothing it started is alive, a later run is not fooled, and the limits read from
inside are the documented ones.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from perforch.orchestration.checking.sandbox import _launcher, uid_isolation
from perforch.orchestration.config import Config, SandboxSettings
from perforch.orchestration.task import Limits, Outcome
from perforch.orchestration.workspace import Workspace
from perforch.orchestration.workspace.calls import CALLS_VARIABLE
from perforch.orchestration.workspace.errors import WorkspaceError
from perforch.orchestration.workspace.jail import PASSED_ENVIRONMENT, bubblewrap_problem
from perforch.orchestration.workspace.steps import BUILD_FILE_BYTES, TOOLCHAIN_MEMORY_MB, TOOLCHAIN_PROCESSES
from process_watch import unique_marker, wait_until_gone

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SECRET_KEY = "sk-perforch-test-secret-0123456789"  # a key the run uses
UNUSED_KEY = "sk-unused-provider-key-9876543210"  # a key of a provider the run does not use
CONFIG_TOKEN = "config-dir-token-5550123"  # in the user's PerfOrch config dir
REPORT = "HOSTILE-REPORT"
DAEMON_SECONDS = 6
TEST_TIMEOUT = 60.0  # [pipeline] test_timeout of the Python workspace
# What a candidate's environment may hold: the jail's allow-list (whatever of it this machine sets), what
# it sets itself, and what the shell and pytest inside add.
ALLOWED_ENVIRONMENT = {*PASSED_ENVIRONMENT, "PATH", "HOME", "TMPDIR", "PWD", "PYTHONDONTWRITEBYTECODE"}
ALLOWED_ENVIRONMENT |= {"CARGO_HOME", "RUSTUP_HOME", "GOMODCACHE", "PYTEST_CURRENT_TEST", "PYTEST_VERSION"}
ALLOWED_ENVIRONMENT.add(CALLS_VARIABLE)  # where the function timer writes: a file in the candidate's scratch dir

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None, reason=f"{bubblewrap_problem()}")

# The hostile count_vowels: every attack, then a wrong answer whose failure message is the report.
HOSTILE_PYTHON = """
def count_vowels(text: str) -> int:
    import ctypes, json, os, resource, sys, time
    report = {"done": []}  # the attacks that got through
    def attempt(name, action):
        try:
            action()
            report["done"].append(name)
        except BaseException:
            pass
    attempt("append_test", lambda: open("tests/test_core.py", "a").write("\\nassert False\\n"))
    attempt("append_pyproject", lambda: open("pyproject.toml", "a").write("\\n# owned\\n"))
    attempt("chmod_777", lambda: os.chmod("tests/test_core.py", 0o777))
    attempt("chmod_000", lambda: os.chmod("pyproject.toml", 0o000))
    attempt("chmod_tree", lambda: os.chmod(".", 0o000))
    attempt("rename", lambda: os.rename("pyproject.toml", "moved.toml"))
    attempt("link", lambda: os.link("pyproject.toml", os.environ["HOME"] + "/linked"))
    def through_symlink(target, name):
        os.symlink(target, os.environ["HOME"] + "/" + name)
        open(os.environ["HOME"] + "/" + name, "a").write("owned")
    attempt("symlink_shadow", lambda: through_symlink(os.path.abspath("pyproject.toml"), "shadow-link"))
    attempt("symlink_user", lambda: through_symlink(USER_FILE, "user-link"))
    attempt("pyc", lambda: open("textstats/__pycache__/core.cpython-311.pyc", "wb").write(b"x"))
    attempt("sourceless", lambda: open("textstats/evil.pyc", "wb").write(b"x"))
    for name, path in TARGETS.items():
        attempt("write_" + name, lambda path=path: open(path, "w").write("escaped"))
    attempt("read_config", lambda: open(CONFIG_FILE).read())
    attempt("network", lambda: __import__("socket").create_connection(("127.0.0.1", SERVER_PORT), 2).close())
    report["keys"] = {k: v for k, v in os.environ.items() if "KEY" in k or "TOKEN" in k}
    report["env"] = sorted(set(os.environ) - ALLOWED)
    report["uid"] = os.getuid()
    report["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
    report["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    report["fsize"] = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    report["data"] = resource.getrlimit(resource.RLIMIT_DATA)[0]
    report["cpu"] = resource.getrlimit(resource.RLIMIT_CPU)[0]
    libc = ctypes.CDLL(None, use_errno=True)
    report["remount"] = libc.mount(b"none", os.getcwd().encode(), None, 32 | 4096, None)  # MS_REMOUNT|MS_BIND
    attempt("kill_supervisor", lambda: os.kill(os.getppid(), 9))
    def huge():
        with open(os.environ["HOME"] + "/huge", "wb") as out:
            for _ in range(64):
                out.write(b"x" * (1 << 20))
    attempt("huge_file", huge)
    try:
        report["huge_size"] = os.path.getsize(os.environ["HOME"] + "/huge")
    except OSError:
        report["huge_size"] = -1
    if os.fork() == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                time.sleep(DAEMON_SECONDS)
                open(DAEMON_FILE, "w").write("daemon outlived the run")
        finally:
            os._exit(0)
    children = 0
    for _ in range(2000):
        try:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
        except OSError:
            break
    report["forked"] = children
    raise AssertionError("REPORT" + json.dumps(report, sort_keys=True) + "END")
"""


def _snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path below `root` with its mode and (for files) its bytes."""
    snapshot = {}
    for path in [root, *sorted(root.rglob("*"))]:
        info = os.lstat(path)
        content = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
        snapshot[str(path.relative_to(root))] = (info.st_mode, content)
    return snapshot


def _fenced(code: str) -> str:
    return f"Here it is.\n```python\n{code}```\n"


def _hostile(targets: dict[str, str], config_file: Path, daemon_file: Path, server_port: int, user_file: Path) -> str:
    header = (
        f"TARGETS = {targets!r}\nCONFIG_FILE = {str(config_file)!r}\nDAEMON_FILE = {str(daemon_file)!r}\n"
        f"SERVER_PORT = {server_port}\nUSER_FILE = {str(user_file)!r}\n"
        f"DAEMON_SECONDS = {DAEMON_SECONDS}\nALLOWED = set({sorted(ALLOWED_ENVIRONMENT)!r})\n"
    )
    return header + HOSTILE_PYTHON


def _perforch(args: list[str], cwd: Path, config_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PERFORCH_TEST_KEY": SECRET_KEY,
        "OPENAI_API_KEY": UNUSED_KEY,
        "PERFORCH_CONFIG_DIR": str(config_dir),
    }
    command = [sys.executable, "-m", "perforch.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def _reports(server) -> list[dict]:
    """The attack's reports, as the models were sent them (in the failure shown to the next model)."""
    found = []
    for request in server.requests:
        for message in request.messages:
            found += [json.loads(body) for body in re.findall(r"REPORT(\{.*?\})END", str(message.get("content")))]
    return found


@pytest.fixture
def workspace(tmp_path: Path, scripted_server, monkeypatch: pytest.MonkeyPatch):
    marker = unique_marker()
    root = tmp_path / f"python-{marker}"
    shutil.copytree(EXAMPLES / "python", root, ignore=shutil.ignore_patterns("__pycache__"))
    models = ["hostile", "fixer"]
    tables = [
        f'[models.{name}]\nmodel = "openai/{name}"\napi_base = "{scripted_server.base_url}"\n'
        f'api_key_env = "PERFORCH_TEST_KEY"\n'
        for name in models
    ]
    pipeline = (
        f"[pipeline]\nmodels = {json.dumps(models)}\ngenerators = 2\ndebug_rounds = 1\ntest_timeout = {TEST_TIMEOUT}\n"
    )
    (root / "perforch.toml").write_text("\n".join([*tables, pipeline]))
    config_dir = tmp_path / "user-config"
    config_dir.mkdir()
    (config_dir / "perforch.toml").write_text(f"# {CONFIG_TOKEN}\n[pipeline]\nlearn = false\n")
    monkeypatch.setenv("PERFORCH_CACHE_DIR", str(tmp_path / "cache"))
    return root, config_dir, marker


def test_a_hostile_candidate_changes_nothing_reads_no_secret_and_leaves_nothing_behind(
    tmp_path: Path, scripted_server, workspace
) -> None:
    root, config_dir, marker = workspace
    escapes = {
        "home": Path.home() / f"perforch-escape-{marker}",
        "tmp": Path("/tmp") / f"perforch-escape-{marker}",
        "workspace": root / "escaped.txt",
        "cache": tmp_path / "cache" / "escaped.txt",
    }
    daemon_file = tmp_path / f"daemon-{marker}"
    port = urlsplit(scripted_server.base_url).port  # the model server on the host's loopback: a way out
    targets = {name: str(path) for name, path in escapes.items()}
    hostile = _hostile(targets, config_dir / "perforch.toml", daemon_file, port, root / "pyproject.toml")
    wrong = "def count_vowels(text: str) -> int:\n    return len(text)\n"

    def policy(model: str, messages: list[dict]) -> str:
        if "classify" in messages[0]["content"]:
            return "string"
        return _fenced(hostile if model == "hostile" else wrong)  # noqa: B023 (changed below, on purpose)

    scripted_server.set_policy(policy)
    before = _snapshot(root)
    file = root / "textstats" / "core.py"
    line = next(i for i, text in enumerate(file.read_text().splitlines(), 1) if "def count_vowels" in text)

    run = _perforch(["generate", str(file), "--line", str(line), "--json"], root, config_dir)

    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    finished = time.monotonic()
    reports = _reports(scripted_server)
    assert reports, [json.dumps(r.messages)[-2000:] for r in scripted_server.requests]
    report = reports[0]
    # Nothing it tried through the shadow copy, the links or the paths it knows reached a file; it could
    # write its private /tmp and signal its own process group (it is pid 1 of its namespace), nothing else.
    assert set(report["done"]) <= {"write_tmp", "kill_supervisor"}, report
    assert report["remount"] == -1 and report["caps"] == "0000000000000000"
    assert _snapshot(root) == before
    assert not any(path.exists() for path in escapes.values())
    # No key in its environment, nor in what any model was sent, nor in PerfOrch's output.
    assert report["keys"] == {}
    assert [name for name in report["env"] if not name.startswith("LC_")] == []  # the jail passes the locale
    for request in scripted_server.requests:
        sent = json.dumps(request.messages)
        assert SECRET_KEY not in sent and UNUSED_KEY not in sent and CONFIG_TOKEN not in sent
    assert SECRET_KEY not in run.stdout + run.stderr and UNUSED_KEY not in run.stdout + run.stderr
    # The documented limits, read from inside: processes, file size, memory (data segment), CPU time (the
    # backstop behind the wall clock, test_timeout; see the README's Sandbox section).
    if uid_isolation():
        assert report["uid"] >= 61000 and report["nproc"] == Limits().processes + TOOLCHAIN_PROCESSES
        assert report["forked"] < report["nproc"]
    assert report["fsize"] == Limits().output_bytes and report["huge_size"] <= Limits().output_bytes
    assert report["data"] == (Limits().memory_mb + TOOLCHAIN_MEMORY_MB) * 2**20, report
    assert report["cpu"] == math.ceil(TEST_TIMEOUT) + 1, report
    # Nothing it started is alive a few seconds later, and the daemon never writes.
    assert wait_until_gone(marker, seconds=3) == []
    time.sleep(max(0.0, finished + DAEMON_SECONDS + 2 - time.monotonic()))
    assert not daemon_file.exists()

    # A later run with an obviously wrong answer is not fooled by anything the hostile one left.
    scripted_server.set_policy(
        lambda model, messages: "string" if "classify" in messages[0]["content"] else _fenced(wrong)
    )
    again = _perforch(["generate", str(file), "--line", str(line), "--json"], root, config_dir)
    assert again.returncode == 1 and "passed" not in json.loads(again.stdout).get("outcome", ""), again.stdout[-2000:]
    assert _snapshot(root) == before


async def test_a_supervisor_that_dies_is_a_failed_attempt_with_a_reason(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PERFORCH_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "python"
    shutil.copytree(EXAMPLES / "python", root)
    file = root / "textstats" / "core.py"
    workspace = Workspace.open(file, Config())
    await workspace.prepare()
    validator = workspace.validator("count_vowels", Limits(wall_seconds=60, build_seconds=60))
    slow = file.read_text().replace("    raise NotImplementedError", "    import time; time.sleep(30)")
    check = asyncio.create_task(validator.check(slow))
    await asyncio.sleep(5)  # the test step is running under the launcher by now
    process = _launcher()._helper._process
    assert process is not None and process.poll() is None
    os.kill(process.pid, signal.SIGKILL)

    verdict = await check

    assert verdict.outcome in (Outcome.TEST_FAILED, Outcome.COMPILE_ERROR), verdict
    assert "launcher supervising this command died" in verdict.diagnostics
    assert (await validator.check(file.read_text())).outcome is Outcome.TEST_FAILED  # and the next one runs


async def test_without_bubblewrap_the_refusal_names_the_cause_and_the_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PERFORCH_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "python"
    shutil.copytree(EXAMPLES / "python", root)
    workspace = Workspace.open(root / "textstats" / "core.py", Config())
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap to be found
    monkeypatch.setattr("perforch.orchestration.workspace.jail._SYSTEM_PATH", str(tmp_path))
    bubblewrap_problem.cache_clear()
    try:
        problem = bubblewrap_problem()
        # Workspace mode refuses before it copies, fetches or runs anything.
        with pytest.raises(WorkspaceError) as refused:
            await workspace.prepare()
    finally:
        bubblewrap_problem.cache_clear()
    assert problem is not None and "apt-get install bubblewrap" in problem and 'mode = "none"' in problem
    assert str(refused.value) == problem and not workspace.shadow.tree.exists()


async def test_mode_none_is_the_users_explicit_choice(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PERFORCH_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "python"
    shutil.copytree(EXAMPLES / "python", root)
    file = root / "textstats" / "core.py"
    workspace = Workspace.open(file, Config(sandbox=SandboxSettings("none")))
    verdict = await workspace.validator("count_vowels", Limits(wall_seconds=60)).check(file.read_text())
    assert not workspace.isolated and verdict.outcome is Outcome.TEST_FAILED


# The same attacks from the compiled languages, run by their test binaries (the JVM for Java). Each answer
# reads a user test file (so the relative paths are known to reach the shadow copy), writes through the shadow
# to it and to the build file, chmods and renames the build file, writes $HOME and /tmp outside its scratch
# dir, reads the user's config dir, connects to the model server on the host's loopback, lists the key
# variables it sees and starts a detached daemon; then fails with the report. Paths are relative to the tests'
# working dir, the shadow copy (C++: to `__FILE__`'s root, as ctest runs in the build dir). The report is split
# in the source, which the next model is sent too.
HOSTILE_GO = r"""import (
    "encoding/json"
    "net"
    "os"
    "os/exec"
    "strconv"
    "strings"
    "syscall"
    "time"
)

func CountVowels(text string) int {
    done := []string{}
    attempt := func(name string, err error) {
        if err == nil {
            done = append(done, name)
        }
    }
    appendTo := func(path string) error {
        f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
        if err != nil {
            return err
        }
        defer f.Close()
        _, err = f.WriteString("// owned\n")
        return err
    }
    _, err := os.ReadFile(%(test)s)
    attempt("read_test", err)
    attempt("append_test", appendTo(%(test)s))
    attempt("append_build", appendTo(%(build)s))
    attempt("chmod", os.Chmod(%(build)s, 0o777))
    attempt("rename", os.Rename(%(build)s, "moved"))
    attempt("write_home", os.WriteFile(%(home)s, []byte("escaped"), 0o644))
    attempt("write_tmp", os.WriteFile(%(tmp)s, []byte("escaped"), 0o644))
    _, err = os.ReadFile(%(config)s)
    attempt("read_config", err)
    _, err = net.DialTimeout("tcp", %(server)s, 2*time.Second)
    attempt("network", err)
    attempt("poison", os.WriteFile(os.Getenv("GOCACHE")+"/"+%(poison)s, []byte("x"), 0o644))
    keys := []string{}
    for _, pair := range os.Environ() {
        if name := strings.SplitN(pair, "=", 2)[0]; strings.Contains(name, "KEY") {
            keys = append(keys, name)
        }
    }
    spawned := exec.Command("setsid", "sh", "-c", %(daemon)s).Start() == nil
    var processes syscall.Rlimit
    syscall.Getrlimit(6, &processes) // RLIMIT_NPROC
    limits, _ := os.ReadFile("/proc/self/limits")
    limit := func(prefix string) string { // the soft limit: the fourth field of "Max file size  N  N  bytes"
        for _, line := range strings.Split(string(limits), "\n") {
            if strings.HasPrefix(line, prefix) {
                return strings.Fields(line)[3]
            }
        }
        return "?"
    }
    report, _ := json.Marshal(map[string]any{"done": done, "keys": keys, "spawned": spawned,
        "nproc": strconv.FormatUint(processes.Cur, 10), "uid": os.Getuid(), "fsize": limit("Max file size"),
        "data": limit("Max data size"), "cpu": limit("Max cpu time")})
    panic("REPORT" + string(report) + "END")
}
"""

HOSTILE_RUST = r"""pub fn count_vowels(text: &str) -> usize {
    use std::fs;
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::process::{Command, Stdio};
    let _ = text;
    let mut done: Vec<String> = Vec::new();
    let mut attempt = |name: &str, ok: bool| {
        if ok {
            done.push(name.to_string());
        }
    };
    let append = |path: &str| {
        let file = fs::OpenOptions::new().append(true).open(path);
        file.and_then(|mut f| f.write_all(b"// owned\n")).is_ok()
    };
    attempt("read_test", fs::read_to_string(%(test)s).is_ok());
    attempt("append_test", append(%(test)s));
    attempt("append_build", append(%(build)s));
    attempt("chmod", fs::set_permissions(%(build)s, fs::Permissions::from_mode(0o777)).is_ok());
    attempt("rename", fs::rename(%(build)s, "moved").is_ok());
    attempt("write_home", fs::write(%(home)s, "escaped").is_ok());
    attempt("write_tmp", fs::write(%(tmp)s, "escaped").is_ok());
    attempt("read_config", fs::read_to_string(%(config)s).is_ok());
    attempt("network", std::net::TcpStream::connect(%(server)s).is_ok());
    attempt("poison", fs::write(format!("target/{}", %(poison)s), "x").is_ok());
    let keys: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .filter(|name| name.contains("KEY"))
        .collect();
    let spawned = Command::new("setsid")
        .args(["sh", "-c", %(daemon)s])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok();
    let uid = fs::metadata("/proc/self").map(|m| m.uid() as i64).unwrap_or(-1);
    let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let nproc = limits
        .lines()
        .find(|line| line.starts_with("Max processes"))
        .and_then(|line| line.split_whitespace().nth(2))
        .unwrap_or("?")
        .to_string();
    let limit = |prefix: &str| {
        let line = limits.lines().find(|line| line.starts_with(prefix));
        line.and_then(|line| line.split_whitespace().nth(3)).unwrap_or("?").to_string()
    };
    let (fsize, data, cpu) = (limit("Max file size"), limit("Max data size"), limit("Max cpu time"));
    panic!(
        "{}{{\"done\":{:?},\"keys\":{:?},\"spawned\":{},\"uid\":{},\"nproc\":\"{}\",\"fsize\":\"{}\",\"data\":\"{}\",\"cpu\":\"{}\"}}END",
        "REPORT", done, keys, spawned, uid, nproc, fsize, data, cpu
    );
}
"""

HOSTILE_CPP = r"""#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int count_vowels(const std::string& text) {
    std::string file = __FILE__;
    std::string root = file.substr(0, file.rfind("/src/")) + "/";
    std::string done, keys;
    auto attempt = [&](const char* name, bool ok) {
        if (ok) done += std::string(done.empty() ? "" : ",") + "\"" + name + "\"";
    };
    auto append = [](const std::string& path) {
        std::ofstream out(path, std::ios::app);
        out << "// owned\n";
        out.flush();
        return out.is_open() && out.good();
    };
    auto write = [](const std::string& path) {
        std::ofstream out(path);
        out << "escaped";
        out.flush();
        return out.is_open() && out.good();
    };
    attempt("read_test", std::ifstream(root + %(test)s).good());
    attempt("append_test", append(root + %(test)s));
    attempt("append_build", append(root + %(build)s));
    attempt("chmod", chmod((root + %(build)s).c_str(), 0777) == 0);
    attempt("rename", std::rename((root + %(build)s).c_str(), (root + "moved").c_str()) == 0);
    attempt("write_home", write(%(home)s));
    attempt("write_tmp", write(%(tmp)s));
    attempt("read_config", std::ifstream(%(config)s).good());
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(%(port)s);
    inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    attempt("network", sock >= 0 && connect(sock, (sockaddr*)&server, sizeof server) == 0);
    attempt("poison", write(root + "../cmake-build/" + %(poison)s));  // the build dir beside the shadow tree
    for (char** entry = environ; *entry; ++entry) {
        std::string name = std::string(*entry).substr(0, std::string(*entry).find('='));
        if (name.find("KEY") != std::string::npos) keys += std::string(keys.empty() ? "" : ",") + "\"" + name + "\"";
    }
    std::string daemon = %(daemon)s;
    bool spawned = std::system(("setsid sh -c '" + daemon + "' </dev/null >/dev/null 2>&1 &").c_str()) == 0;
    struct rlimit processes;
    getrlimit(RLIMIT_NPROC, &processes);
    auto limit = [](int resource) {
        struct rlimit value;
        getrlimit(resource, &value);
        return std::to_string(value.rlim_cur);
    };
    throw std::runtime_error(std::string("REPORT") + "{\"done\":[" + done + "],\"keys\":[" + keys + "],\"spawned\":" +
        (spawned ? "true" : "false") + ",\"uid\":" + std::to_string(getuid()) + ",\"nproc\":\"" +
        std::to_string(processes.rlim_cur) + "\",\"fsize\":\"" + limit(RLIMIT_FSIZE) + "\",\"data\":\"" +
        limit(RLIMIT_DATA) + "\",\"cpu\":\"" + limit(RLIMIT_CPU) + "\"}END");
    return text.size();
}
"""

HOSTILE_JAVA = r"""import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;

public static int countVowels(String text) {
        List<String> done = new ArrayList<>();
        BiConsumer<String, Callable<Object>> attempt = (name, action) -> {
            try {
                action.call();
                done.add("\"" + name + "\"");
            } catch (Exception e) {
                // refused: not reported
            }
        };
        StandardOpenOption append = StandardOpenOption.APPEND;
        attempt.accept("read_test", () -> Files.readString(Path.of(%(test)s)));
        attempt.accept("append_test", () -> Files.writeString(Path.of(%(test)s), "// owned\n", append));
        attempt.accept("append_build", () -> Files.writeString(Path.of(%(build)s), "<!-- owned -->\n", append));
        attempt.accept("chmod", () -> Files.setPosixFilePermissions(Path.of(%(build)s),
            PosixFilePermissions.fromString("rwxrwxrwx")));
        attempt.accept("rename", () -> Files.move(Path.of(%(build)s), Path.of("moved")));
        attempt.accept("write_home", () -> Files.writeString(Path.of(%(home)s), "escaped"));
        attempt.accept("write_tmp", () -> Files.writeString(Path.of(%(tmp)s), "escaped"));
        attempt.accept("read_config", () -> Files.readString(Path.of(%(config)s)));
        attempt.accept("network", () -> new java.net.Socket("127.0.0.1", %(port)s));
        attempt.accept("poison", () -> Files.writeString(Path.of("target", %(poison)s), "x"));
        List<String> keys = new ArrayList<>();
        for (String name : System.getenv().keySet()) {
            if (name.contains("KEY")) keys.add("\"" + name + "\"");
        }
        boolean spawned;
        try {
            new ProcessBuilder("setsid", "sh", "-c", %(daemon)s).start();
            spawned = true;
        } catch (Exception e) {
            spawned = false;
        }
        Object uid = -1;
        String nproc = "?";
        String fsize = "?";
        String data = "?";
        String cpu = "?";
        try {
            uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max processes")) nproc = line.split("\\s+")[2];
                if (line.startsWith("Max file size")) fsize = line.split("\\s+")[3];
                if (line.startsWith("Max data size")) data = line.split("\\s+")[3];
                if (line.startsWith("Max cpu time")) cpu = line.split("\\s+")[3];
            }
        } catch (Exception e) {
            // reported as -1 and ?
        }
        throw new RuntimeException("REPORT" + "{\"done\":[" + String.join(",", done) + "],\"keys\":["
            + String.join(",", keys) + "],\"spawned\":" + spawned + ",\"uid\":" + uid + ",\"nproc\":\"" + nproc
            + "\",\"fsize\":\"" + fsize + "\",\"data\":\"" + data + "\",\"cpu\":\"" + cpu + "\"}END");
    }
"""


@dataclass(frozen=True)
class CompiledExample:
    source: str  # the file with the stub, relative to the example
    stub: str  # the stub's line starts with this
    test_file: str  # a user test file, relative to the example
    build_file: str
    fence: str
    code: str  # the hostile answer, a %-template
    # Where its code runs: "test" (a test binary), or "build+test" (`mvn test` compiles and tests in one step,
    # so it gets a build step's file size and deadline, and its own copy of target/, thrown away after it).
    phase: str = "test"


COMPILED = {
    "go": CompiledExample("textstats.go", "func CountVowels", "textstats_test.go", "go.mod", "go", HOSTILE_GO),
    "rust": CompiledExample("src/lib.rs", "pub fn count_vowels", "src/lib.rs", "Cargo.toml", "rust", HOSTILE_RUST),
    "cpp": CompiledExample(
        "src/textstats.cpp", "int count_vowels", "tests/textstats_test.cpp", "CMakeLists.txt", "cpp", HOSTILE_CPP
    ),
    "java": CompiledExample(
        "src/main/java/example/TextStats.java",
        "    public static int countVowels",
        "src/test/java/example/TextStatsTest.java",
        "pom.xml",
        "java",
        HOSTILE_JAVA,
        "build+test",
    ),
}


def _go_build_cache() -> list[Path]:
    """Go's build cache, which build steps keep across candidates (outside PerfOrch's cache dir)."""
    if shutil.which("go") is None:
        return []
    return [Path(subprocess.run(["go", "env", "GOCACHE"], capture_output=True, text=True, check=True).stdout.strip())]


@pytest.mark.parametrize("language", sorted(COMPILED))
def test_a_hostile_compiled_candidate_is_confined_too(
    language: str, tmp_path: Path, scripted_server, monkeypatch
) -> None:
    example = COMPILED[language]
    marker = unique_marker()
    root = tmp_path / f"{language}-{marker}"
    shutil.copytree(EXAMPLES / language, root)
    config_dir = tmp_path / "user-config"
    config_dir.mkdir()
    (config_dir / "perforch.toml").write_text(f"# {CONFIG_TOKEN}\n")
    monkeypatch.setenv("PERFORCH_CACHE_DIR", str(tmp_path / "cache"))
    table = f'[models.hostile]\nmodel = "openai/hostile"\napi_base = "{scripted_server.base_url}"\n'
    table += 'api_key_env = "PERFORCH_TEST_KEY"\n'
    table += '[pipeline]\nmodels = ["hostile"]\ndebug_rounds = 1\ntest_timeout = 120.0\n'
    (root / "perforch.toml").write_text(table)
    escapes = {"home": Path.home() / f"perforch-escape-{marker}", "tmp": Path("/tmp") / f"perforch-escape-{marker}"}
    daemon_file = tmp_path / f"daemon-{marker}"
    places = {name: str(path) for name, path in escapes.items()}
    places |= {"test": example.test_file, "build": example.build_file, "config": str(config_dir / "perforch.toml")}
    port = urlsplit(scripted_server.base_url).port  # the model server on the host's loopback: a way out
    places |= {"server": f"127.0.0.1:{port}", "port": port}
    places["daemon"] = f"sleep {DAEMON_SECONDS}; touch {daemon_file}"  # the marker in its command line
    places["poison"] = f"poison-{marker}"  # written into the build outputs kept for the next candidate
    code = example.code % {name: json.dumps(value) for name, value in places.items()}
    scripted_server.set_policy(
        lambda model, messages: "string" if "classify" in messages[0]["content"] else f"```{example.fence}\n{code}```\n"
    )
    before = _snapshot(root)
    file = root / example.source
    line = next(i for i, text in enumerate(file.read_text().splitlines(), 1) if text.startswith(example.stub))

    run = _perforch(["generate", str(file), "--line", str(line), "--json"], root, config_dir)

    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-3000:]
    finished = time.monotonic()
    reports = _reports(scripted_server)
    assert reports, [json.dumps(r.messages)[-1500:] for r in scripted_server.requests]
    report = reports[0]
    # It read the user's test file through the shadow (so its paths were right), wrote nothing but its /tmp
    # (and, in Java, its own copy of target/); no connection to the model server.
    allowed = {"read_test", "write_tmp", *(["poison"] if example.phase == "build+test" else [])}
    assert "read_test" in report["done"] and set(report["done"]) <= allowed, report
    assert report["keys"] == [] and report["spawned"] is True, report
    if uid_isolation():
        assert report["uid"] >= 61000 and report["nproc"] == str(Limits().processes + TOOLCHAIN_PROCESSES), report
    # The documented limits, read from inside (README, Sandbox): file size, data segment, CPU time (the wall
    # clock's deadline + 1 s: test_timeout for a test step, + the 60 s build deadline for `mvn test`).
    builds_too = example.phase == "build+test"
    assert report["fsize"] == str(BUILD_FILE_BYTES if builds_too else Limits().output_bytes), report
    assert report["data"] == str((Limits().memory_mb + TOOLCHAIN_MEMORY_MB) * 2**20), report
    assert report["cpu"] == str(120 + (60 if builds_too else 0) + 1), report
    # Nothing it wrote is left where the next candidate would find it: the workspace's cache (shadow copy,
    # build dirs) and Go's build cache.
    assert not list((tmp_path / "cache").rglob(f"poison-{marker}"))
    assert not any((cache / f"poison-{marker}").exists() for cache in _go_build_cache() if language == "go")
    assert _snapshot(root) == before
    assert not any(path.exists() for path in escapes.values())
    for request in scripted_server.requests:
        sent = json.dumps(request.messages)
        assert SECRET_KEY not in sent and UNUSED_KEY not in sent and CONFIG_TOKEN not in sent
    assert SECRET_KEY not in run.stdout + run.stderr and UNUSED_KEY not in run.stdout + run.stderr
    assert wait_until_gone(marker, seconds=3) == []
    time.sleep(max(0.0, finished + DAEMON_SECONDS + 2 - time.monotonic()))
    assert not daemon_file.exists() and not any(path.exists() for path in escapes.values())
