"""Computing a profile's runs: every run of a notebook trained (or loaded)
in this process, one after another, or as Ray tasks (``executors``), with
progress and an ETA; one table row per run with its labels and metrics."""

from __future__ import annotations

import functools
import time

import pandas as pd

from ..store.paths import runs_dir
from ..store.runlock import Locked
from ..training.spec import spec_id
from .cache import ensure, finished_specs, is_finished, load, metrics_at, run_dir, stand_in
from .profiles import label_text, notebook_runs


def ensure_all(notebook: str, profile: str, overrides: dict | None = None, *, log=print,
               executor: str = "local", executor_options: dict | None = None,
               only: dict | None = None, wait: bool = True, train: bool = True,
               **fit_options) -> pd.DataFrame:
    """Compute (or load) every run of a notebook's profile; one row per run
    with the case's columns, the seed, the run id and its metrics (read at
    the row's length where a longer run stands in for it). ``only`` selects
    runs by label (``notebook_runs``); ``wait=False`` leaves the runs another
    process is training to it and returns only the finished rows; ``train=False``
    trains nothing and returns the rows whose runs are finished (a report on
    a campaign under way).

    ``executor="local"`` trains in this process, one run after another; runs
    another process is training are waited for at the end. ``"ray"`` makes
    each run a Ray task (``lib.campaign.executors``; ``executor_options`` go there)."""
    P, runs = notebook_runs(notebook, profile, overrides, only)
    distinct = {spec_id(r["spec"]): r for r in runs}   # rows may share a run
    todo = [r for r in distinct.values() if not is_finished(run_dir(r["spec"], profile))]
    log(f"{notebook}/{profile}: {len(distinct)} runs, {len(distinct) - len(todo)} cached, "
        f"{len(todo)} {'to train' if train else 'not finished (not trained here)'}")
    if not train:
        todo, wait = [], False
    for key, value in (P.get("runtime") or {}).items():   # e.g. jit_compile
        fit_options.setdefault(key, value)
    t0 = time.perf_counter()
    if executor not in ("local", "ray"):
        raise ValueError(f"unknown executor {executor!r}; expected 'local' or 'ray'")
    if executor == "ray" and todo:
        from . import executors   # Ray is imported only when asked for
        failed = executors.ray_compute(todo, profile, fit_options, log=log,
                                       **(executor_options or {}))
        if failed:
            raise RunsFailed(failed)
    elif executor == "local":
        deferred = []
        for i, r in enumerate(todo, 1):
            if is_finished(run_dir(r["spec"], profile)):
                continue
            elapsed = time.perf_counter() - t0
            eta = f", about {elapsed / (i - 1) * (len(todo) - i + 1) / 60:.0f} min left" \
                if i > 1 else ""
            log(f"({i}/{len(todo)}, {elapsed / 60:.0f} min{eta}) training {label_text(r)}")
            try:
                ensure(r["spec"], profile, log=log, wait=False, **fit_options)
            except Locked as exc:
                log(f"({i}/{len(todo)}) skipped for now: {exc}")
                deferred.append(r)
        for r in deferred if wait else []:   # trained elsewhere: wait (or take over if it dies)
            ensure(r["spec"], profile, log=log, wait=True, **fit_options)
    rows = []
    finished = functools.cache(lambda: finished_specs(profile))
    for r in runs:
        found = row_source(r, profile, wait, finished)
        if found is None:
            continue
        r = {**r, "spec": found[0], "at_epoch": found[1]}
        run = load(run_dir(r["spec"], profile))
        m = metrics_at(run, r.get("at_epoch"))
        rows.append({**r["labels"], "run_id": run["id"], **{
            k: m[k] for k in ("best_test_accuracy", "final_test_accuracy", "final_train_accuracy",
                              "epochs", "train_images", "wall_seconds", "train_seconds",
                              "images_per_second")},
            "updates": m["train_images"] // r["spec"]["batch_size"]})
    log(f"{notebook}/{profile}: done in {time.perf_counter() - t0:.0f}s")
    return pd.DataFrame(rows)


def row_source(r: dict, profile: str, wait: bool = True, finished=None):
    """``(spec, at_epoch)`` of the finished run a profile's row ``r`` is read
    from, or None where there is none yet (only when not ``wait``ing).

    A row that :func:`lib.training.spec.read_prefixes` points at a longer run
    reads its own run where that is finished: trained beside the row's
    partners, it pairs with them, while a longer run trained on another
    processor does not retrace it bit for bit (on the same processor the two
    are identical and ``retire-prefixes`` removes the shorter). Else, while
    the longer run is unfinished, another finished run that holds the row's
    epochs stands in (``cache.stand_in``; ``finished``: a callable returning
    ``cache.finished_specs``, called at most when needed)."""
    own = r.get("own_spec")
    if own is not None and is_finished(run_dir(own, profile)):
        return own, None
    if wait or is_finished(run_dir(r["spec"], profile)):
        return r["spec"], r.get("at_epoch")
    return stand_in(own or r["spec"], profile, finished() if finished else None)


class RunsFailed(RuntimeError):
    """Some runs of a distributed computation failed (the others finished)."""

    def __init__(self, failed: list):
        self.failed = failed   # executors.RunFailure each: run_id, error, detail
        super().__init__(f"{len(failed)} run(s) failed: " + "; ".join(
            f"{f.run_id}: {f.error}" for f in failed))


def load_histories(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Long frame of every run's history, with the table's label columns."""
    frames = []
    for _, row in table.iterrows():
        h = load(runs_dir(profile) / row["run_id"])["history"]
        h = h[h["epoch"] <= row["epochs"]].copy()   # a longer run read at the row's length
        for col in table.columns:
            if col not in h.columns:
                h[col] = row[col]
        frames.append(h)
    return pd.concat(frames, ignore_index=True)


