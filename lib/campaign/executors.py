"""Run a profile's runs as Ray tasks, one task per run.

Ray is the engine: it places tasks on the machines of a cluster (or of this
machine), retries a task whose worker died, and reports results. A task
trains its run with ``cache.ensure`` exactly as the in-process path does, so
the run directory, its lock, resume and caching are the same; the results
root must be storage that every worker sees (docs/operations.md shows the cluster
case). ``RAY_ADDRESS`` names an existing cluster; without it a local Ray is
started with this machine's resources.
"""

from __future__ import annotations

import math
import os
import time
from typing import NamedTuple

from ..store.paths import REPO, results_root
from ..training.spec import spec_id
from .profiles import label_text

class RunFailure(NamedTuple):
    """A run whose task raised: ``error`` is the training's own exception in
    one line (its type and message), ``detail`` everything Ray reported."""
    run_id: str
    error: str
    detail: str


def _failure(run_id: str, exc: Exception) -> RunFailure:
    cause = getattr(exc, "cause", None) or exc   # Ray wraps the task's exception
    return RunFailure(run_id, f"{type(cause).__name__}: {cause}".strip(), str(exc))


#: forwarded to every worker, so it trains what this process would
FORWARDED_ENV = ("CIFAR10_PATH", "KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "ABLATION_WAIT_POLL")


#: TensorFlow's thread pools, sized to the CPUs a task was given
THREAD_ENV = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def _worker_env(cpus_per_run: float | None = None) -> dict:
    """The environment of every task. Without a limit TensorFlow sizes its
    thread pools to all of a machine's cores, so tasks placed side by side
    would oversubscribe them; a task given ``cpus_per_run`` CPUs gets that
    many threads (rounded up), unless the submitting shell set them."""
    env = {k: os.environ[k] for k in FORWARDED_ENV + THREAD_ENV if k in os.environ}
    env["ABLATION_RESULTS_DIR"] = str(results_root())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    if cpus_per_run:
        for k in THREAD_ENV:
            env.setdefault(k, str(max(1, math.ceil(cpus_per_run))))
    return env


def _train_run(spec: dict, profile: str, fit_options: dict) -> float:
    """One Ray task: train (or resume, or load) one run; its training seconds."""
    from lib.campaign import cache
    return cache.ensure(spec, profile, **fit_options)["metrics"]["train_seconds"]


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def ray_compute(runs: list[dict], profile: str, fit_options: dict, *, log=print,
                gpus_per_run: float | None = None, cpus_per_run: float = 1,
                max_retries: int = 3) -> list[tuple[str, str]]:
    """Train ``runs`` (each with ``labels`` and ``spec``) as Ray tasks. One
    line per finished run with the overall count and an ETA; a failed run is
    reported and the others go on. Returns a :class:`RunFailure` for each
    failed one. A task whose worker process dies is retried up to
    ``max_retries`` times (it resumes from the run's last checkpoint); an
    exception raised by training is not retried."""
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                 logging_level="ERROR")
    try:
        if gpus_per_run is None:
            gpus_per_run = 1 if ray.cluster_resources().get("GPU", 0) > 0 else 0
        resources = ray.cluster_resources()
        log(f"ray: {len(runs)} runs as tasks ({cpus_per_run:g} CPU, {gpus_per_run:g} GPU each) "
            f"on {resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs; "
            f"results in {results_root()}")
        # the environment goes with each task (not the job), so one running Ray can
        # serve computations into different results folders
        task = ray.remote(_train_run).options(num_cpus=cpus_per_run, num_gpus=gpus_per_run,
                                              max_retries=max_retries, retry_exceptions=False,
                                              runtime_env={"env_vars": _worker_env(cpus_per_run)})
        refs = {task.remote(r["spec"], profile, fit_options): r for r in runs}
        pending, failed, finished, t0 = list(refs), [], 0, time.perf_counter()
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            r = refs[ready[0]]
            rid = spec_id(r["spec"])
            try:
                ray.get(ready[0])
                finished += 1
                status = "finished"
            except Exception as exc:   # the task's error, re-raised by Ray; the others go on
                failed.append(_failure(rid, exc))
                status = f"FAILED: {failed[-1].error}"
            n, elapsed = finished + len(failed), time.perf_counter() - t0
            log(f"[{n}/{len(runs)}] {rid} ({label_text(r)}) {status}; elapsed {_clock(elapsed)}, "
                f"ETA {_clock(elapsed / n * (len(runs) - n))}")
        return failed
    finally:
        if started_here:
            ray.shutdown()
