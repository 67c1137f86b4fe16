"""Profile and eval on a Ray cluster (`perforch profile|eval --ray ADDRESS`), the optional `perforch[ray]` extra.

The driver (the `perforch` process) keeps the results store and the progress, as in a local run; only the
problems travel. They go to runner actors, one per cluster CPU (up to --jobs), each an asyncio loop with its
own warm toolchains that profiles several problems at once, like a local run. Every model call holds a
cluster-wide slot of its model (one small actor per model), so a model's `max_concurrency` holds however many
nodes run. A runner lost with its worker or node is restarted by Ray and its problems retried; a slot its
calls held is reclaimed when its lease runs out. Each node needs PerfOrch, the toolchains of the languages
profiled and the models' API key variables: `connect` checks every node first and names what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
import uuid
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from types import ModuleType

from .benchmark import Problem
from .config import Config
from .errors import PerfOrchError
from .models import ModelError, ModelGateway, ModelSpec

# A slot is reclaimed this long after the model's deadline if its holder never gives it back (a killed worker).
LEASE_MARGIN_SECONDS = 10.0


class ClusterError(PerfOrchError):
    """No Ray, no cluster, or a node that cannot run problems; the message names the node and the fix."""


def _ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise ClusterError(
            "--ray needs the ray package: pip install 'perforch[ray]' here and on every node of the cluster"
        ) from None
    return ray


class ModelLimit:
    """A Ray actor: at most `limit` leases of one model at once, across the cluster."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.leases: dict[str, float] = {}  # lease -> when it expires

    async def acquire(self, seconds: float) -> str:
        while True:
            now = time.monotonic()
            self.leases = {lease: end for lease, end in self.leases.items() if end > now}
            if len(self.leases) < self.limit:
                lease = uuid.uuid4().hex
                self.leases[lease] = now + seconds
                return lease
            await asyncio.sleep(0.02)

    async def release(self, lease: str) -> None:
        self.leases.pop(lease, None)


class _ClusterSlot:
    """`async with`: hold one lease of a model's ModelLimit actor for the call."""

    def __init__(self, limit, seconds: float) -> None:
        self.limit, self.seconds, self.lease = limit, seconds, None

    async def __aenter__(self) -> None:
        self.lease = await self.limit.acquire.remote(self.seconds)

    async def __aexit__(self, *exc_info: object) -> None:
        await self.limit.release.remote(self.lease)


def _cluster_gateway(config: Config, limits: dict) -> ModelGateway:
    """A gateway whose model calls hold the cluster-wide slots of `limits` (alias -> ModelLimit actor)."""
    gateway = config.gateway()
    seconds = gateway.timeout + LEASE_MARGIN_SECONDS

    def slot(spec: ModelSpec) -> AbstractAsyncContextManager:
        limit = limits.get(spec.alias)
        return _ClusterSlot(limit, seconds) if limit is not None else asyncio.Semaphore(spec.max_concurrency)

    gateway.shared_slots = slot
    return gateway


class _Runner:
    """A Ray actor's body: runs the problems it is sent, several at once, on one event loop."""

    async def run(self, problem: Problem) -> dict:
        import ray

        record = await self._run(problem)
        return {**record, "node": ray.get_runtime_context().get_node_id()}  # provenance: where it ran

    async def _run(self, problem: Problem) -> dict:
        raise NotImplementedError

    async def close(self) -> None:
        from .checking import close_all
        from .models import close_model_clients

        await close_all()
        await close_model_clients()


class ProfileRunner(_Runner):
    def __init__(self, config: Config, models: list[str], limits: dict) -> None:
        from .profiling import Profiler

        gateway = _cluster_gateway(config, limits)
        self.profiler = Profiler(gateway, models, config.limits(), config.pipeline.refine_threshold)

    async def _run(self, problem: Problem) -> dict:
        return await self.profiler.profile_problem(problem)


class EvalRunner(_Runner):
    def __init__(self, config: Config, router, limits: dict) -> None:
        from .pipeline import Pipeline

        self.pipeline = Pipeline(_cluster_gateway(config, limits), router, config.pipeline)
        self.limits = config.limits()

    async def _run(self, problem: Problem) -> dict:
        from .profiling import evaluate_problem

        return await evaluate_problem(problem, self.pipeline, self.limits)


def check_node(languages: list[str], key_variables: list[str]) -> list[str]:
    """On one node: what it lacks to run problems of `languages` with these models (empty when nothing)."""
    from .checking import ToolchainUnavailable, prepare_all

    missing = []
    for language in languages:
        try:
            asyncio.run(prepare_all([language]))
        except ToolchainUnavailable as exc:
            missing.append(f"{language}: {exc}")
    missing += [f"{name} is not set (a model's API key)" for name in key_variables if name not in os.environ]
    return missing


class RayUnits:
    """A connection to a Ray cluster that runs profile or eval problems there; `close` when done."""

    def __init__(self, ray: ModuleType, runners: list, per_runner: int) -> None:
        self.ray, self.runners, self.per_runner = ray, runners, per_runner
        self._free: asyncio.Queue | None = None

    @classmethod
    def connect(
        cls,
        address: str,
        config: Config,
        models: Iterable[str],
        languages: Iterable[str],
        jobs: int,
        runner: type[_Runner],
        subject: object,
    ) -> RayUnits:
        """Connect, check every node, start the model limits and the runners (`runner(config, subject, limits)`:
        ProfileRunner with the models, EvalRunner with the router)."""
        ray = _ray()
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        except (ConnectionError, RuntimeError) as exc:
            raise ClusterError(f"--ray {address}: no Ray cluster there ({exc}); start one with `ray start`") from None
        specs = _specs(config, models)
        keys = sorted({spec.api_key_env for spec in specs if spec.api_key_env})
        try:
            _check_nodes(ray, sorted(set(languages)), keys)
        except ClusterError:
            ray.shutdown()
            raise
        # Restarted with the node it lived on (its leases forgotten: at worst a few calls more for a moment).
        limit_actor = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(ModelLimit)
        limits = {spec.alias: limit_actor.remote(spec.max_concurrency) for spec in specs}
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        count = max(1, min(cpus, jobs))
        per_runner = math.ceil(jobs / count)
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=3)(runner)
        runners = [actor.options(max_concurrency=per_runner).remote(config, subject, limits) for _ in range(count)]
        return cls(ray, runners, per_runner)

    @property
    def in_flight(self) -> int:
        return len(self.runners) * self.per_runner

    async def run(self, problem: Problem) -> dict:
        """One problem's record, from whichever runner has room."""
        if self._free is None:
            self._free = asyncio.Queue()
            for runner in self.runners:
                for _ in range(self.per_runner):
                    self._free.put_nowait(runner)
        runner = await self._free.get()
        try:
            return await runner.run.remote(problem)
        finally:
            self._free.put_nowait(runner)

    def close(self) -> None:
        for runner in self.runners:
            with contextlib.suppress(Exception):  # a runner that cannot close its helpers is killed anyway
                self.ray.get(runner.close.remote(), timeout=30)
            self.ray.kill(runner)
        self.ray.shutdown()


def _specs(config: Config, models: Iterable[str]) -> list[ModelSpec]:
    """The models' specs; a name no spec resolves is left to fail its calls, as in a local run."""
    gateway, specs = config.gateway(), []
    for model in models:
        with contextlib.suppress(ModelError):
            specs.append(gateway.resolve(model))
    return specs


def _check_nodes(ray: ModuleType, languages: list[str], keys: list[str]) -> None:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    check = ray.remote(num_cpus=0, max_retries=0)(check_node)
    nodes = [node for node in ray.nodes() if node["Alive"]]
    pending = {}
    for node in nodes:
        strategy = NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
        pending[_node_name(node)] = check.options(scheduling_strategy=strategy).remote(languages, keys)
    problems = []
    for name, ref in pending.items():
        try:
            missing = ray.get(ref, timeout=600)
        except Exception as exc:  # PerfOrch not importable there, or the node died
            missing = [f"cannot run PerfOrch ({type(exc).__name__}: {str(exc).splitlines()[0][:300]})"]
        problems += [f"Ray node {name}: {what}" for what in missing]
    if problems:
        raise ClusterError(
            "\n".join(problems) + "\nevery node needs `pip install 'perforch[ray]'`, the toolchains (.ci/install) and "
            "the models' API key variables (set them where `ray start` runs); see the README, Profiling on Ray"
        )


def _node_name(node: dict) -> str:
    return f"{node['NodeManagerAddress']} ({node['NodeID'][:8]})"
