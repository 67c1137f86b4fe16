"""How responsive `perforch serve` is: time to answer `initialize`, codeAction latency on a 5,000-line Python
file, and the server's memory at rest.

A pygls client starts the server over stdio, as an editor does. Reported:
- initialize: from starting the process to the answer (what a user waits for), and the server's CPU time by
  then (the same figure on a busy machine); median and worst of --starts runs; and the request alone, sent
  to a server that has finished starting;
- codeAction p50/p99 over --requests requests at random lines, twice: the cursor moving over one version of
  the file, and each request right after an edit (the first question about a new version);
- RSS of the server after all that, with no job run (litellm is not loaded until the first job).
Targets: initialize < 0.5 s, codeAction p99 < 50 ms, memory at rest < 150 MB.

    python3 benchmarks/server_latency.py [--starts 5] [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SERVER = [sys.executable, "-m", "perforch.cli", "serve"]
LINES = 5000


def python_file(lines: int) -> str:
    """Classes and functions, some stubs, with docstrings and comments: a big but ordinary module."""
    parts = ['"""A large module."""\n\nimport math\n\n\n']
    n = 0
    while sum(part.count("\n") for part in parts) < lines:
        parts.append(f'class Shape{n}:\n    """Shape number {n}."""\n\n')
        for m in range(4):
            body = (
                "        raise NotImplementedError\n"
                if (n + m) % 5 == 0
                else (
                    f"        total = 0\n        for i in range(x):\n            # accumulate\n"
                    f"            total += math.isqrt(i) * {m}\n        return total\n"
                )
            )
            parts.append(f'    def method{m}(self, x: int) -> int:\n        """Method {m}."""\n{body}\n')
        parts.append(f"\ndef helper{n}(values: list[int]) -> int:\n    return sum(v * {n} for v in values)\n\n\n")
        n += 1
    return "".join(parts)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        text_document=types.TextDocumentClientCapabilities(code_action=types.CodeActionClientCapabilities()),
    )


async def start(root: Path, settle: bool = False) -> tuple[LanguageClient, float, float]:
    """A started, initialized server; the seconds until initialize was answered, counted from the process
    start (or, with `settle`, from the request sent to a server done starting); its CPU seconds by then."""
    client = LanguageClient("server-latency", "1")
    started = time.perf_counter()
    await client.start_io(*SERVER)
    if settle:
        await settled(client._server.pid)
        started = time.perf_counter()
    params = types.InitializeParams(capabilities=capabilities(), root_uri=root.as_uri(), process_id=os.getpid())
    await client.initialize_async(params)
    seconds = time.perf_counter() - started
    client.initialized(types.InitializedParams())
    return client, seconds, cpu_seconds(client._server.pid)


async def settled(pid: int) -> None:
    """Until the process has stopped using CPU: imports done, waiting for its first message."""
    last = -1.0
    while (now := cpu_seconds(pid)) != last:
        last = now
        await asyncio.sleep(0.3)


async def stop(client: LanguageClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def code_action(client: LanguageClient, uri: str, line: int) -> float:
    position = types.Position(line=line, character=4)
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=position, end=position),
        context=types.CodeActionContext(diagnostics=[]),
    )
    started = time.perf_counter()
    await client.text_document_code_action_async(params)
    return time.perf_counter() - started


def edit(client: LanguageClient, uri: str, version: int, line: int) -> None:
    """Type one character at the end of a line: a new version of the document."""
    position = types.Position(line=line, character=0)
    change = types.TextDocumentContentChangePartial(range=types.Range(start=position, end=position), text=" ")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]
        )
    )


def percentiles(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms   max {ordered[-1] * 1000:6.2f} ms"


async def run(starts: int, requests: int) -> None:
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        file = root / "big.py"
        file.write_text(python_file(LINES))
        total_lines = file.read_text().count("\n")

        walls, cpus, requests_alone = [], [], []
        for _ in range(starts):
            client, wall, cpu = await start(root)
            walls.append(wall)
            cpus.append(cpu)
            await stop(client)
            client, alone, _ = await start(root, settle=True)
            requests_alone.append(alone)
            await stop(client)

        client, _, _ = await start(root)
        uri = file.as_uri()
        document = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=file.read_text())
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=document))
        moving = [await code_action(client, uri, rng.randrange(total_lines)) for _ in range(requests)]
        edited = []
        for version in range(2, 2 + requests // 5):
            line = rng.randrange(total_lines)
            edit(client, uri, version, line)
            edited.append(await code_action(client, uri, line))
        await asyncio.sleep(1.0)  # let the server settle before reading its memory
        rss = rss_mb(client._server.pid)
        await stop(client)

    print(f"server: {' '.join(SERVER[1:])}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"initialize ({starts} starts)     median {statistics.median(walls):.3f} s   max {max(walls):.3f} s   "
          f"(server CPU by then: median {statistics.median(cpus):.3f} s)   target < 0.5 s")  # fmt: skip
    print(f"initialize request alone (server started): median {statistics.median(requests_alone) * 1000:.1f} ms")
    print(f"codeAction, cursor moving ({len(moving)} requests on {total_lines} lines): {percentiles(moving)}")
    print(f"codeAction, right after an edit ({len(edited)}):        {percentiles(edited)}   target p99 < 50 ms")
    print(f"memory at rest (RSS, no job run):  {rss:.1f} MB   target < 150 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(run(args.starts, args.requests))


if __name__ == "__main__":
    main()
