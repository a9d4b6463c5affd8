"""Run cache: spec -> id -> ``<results>/<profile>/runs/<id>/``.

A finished run (one with ``metrics.json``) is loaded, never retrained; an
unfinished one is resumed. One process trains a run at a time (``lib.runlock``):
a process that meets a run another one is training goes on with the others
and waits for it at the end. Files that cannot be what the trainer wrote raise
``CorruptRunError`` naming the run and the file; they are never loaded as a
result. The CLI computes a notebook's runs without Jupyter:

    python -m lib.runs compute bc_learning --profile quick [--executor ray]
    python -m lib.runs compute bc_learning --profile quick --recompute <run-id>
    python -m lib.runs plan all --profile paper --tflops 300
    python -m lib.runs check bc_learning --profile paper
    python -m lib.runs list [--profile quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from . import experiments, params as params_lib
from .runfiles import REPO, CorruptRunError, read_finished, read_history, read_json, read_state
from .runlock import Locked, RunLock, describe, is_locked, read_owner
from .spec import read_prefixes, spec_id

PROFILES = ("smoke", "quick", "budget", "paper")


def results_root() -> Path:
    """``$ABLATION_RESULTS_DIR``, else the repository's ``results/`` (absolute,
    so notebooks find it whatever their working directory)."""
    return Path(os.environ.get("ABLATION_RESULTS_DIR") or REPO / "results").resolve()


def profile_dir(profile: str) -> Path:
    return results_root() / profile


def run_dir(spec: dict, profile: str) -> Path:
    return profile_dir(profile) / "runs" / spec_id(spec)


def is_finished(path: Path) -> bool:
    """Whether the run claims to be finished (``load`` checks that claim)."""
    return (path / "metrics.json").exists()


def load(path: Path) -> dict:
    """A finished run; ``CorruptRunError`` if any of its files is damaged."""
    path = Path(path)
    spec = read_json(path / "spec.json")
    metrics, history = read_finished(path)
    return {"id": path.name, "spec": spec, "history": pd.DataFrame(history), "metrics": metrics}


#: seconds between looks at a run another process is training
WAIT_POLL = float(os.environ.get("ABLATION_WAIT_POLL", 5))


def ensure(spec: dict, profile: str, *, log=print, wait: bool = True, **fit_options) -> dict:
    """Load the finished run for ``spec`` or train (or resume) it first, under
    the run's lock. If another live process holds the lock, wait for it to
    finish (``wait``) or raise ``Locked``."""
    path = run_dir(spec, profile)
    told = False
    while True:
        if is_finished(path):
            return load(path)
        try:
            with RunLock(path, log=log):
                if not is_finished(path):   # it may have finished since we looked
                    from .train import fit  # the trainer is needed only to train
                    fit(spec, path, log=log, **fit_options)
            return load(path)
        except Locked as exc:
            if not wait:
                raise
            if not told:
                log(f"waiting for {exc}")
                told = True
            time.sleep(WAIT_POLL)


def recompute(run_ids, profile: str, *, log=print) -> None:
    """Delete what the runs ``run_ids`` of ``profile`` hold (under their
    locks), so that the next ``ensure`` trains them from scratch: the one
    remedy for a corrupt run."""
    for rid in run_ids:
        path = profile_dir(profile) / "runs" / rid
        if not path.is_dir():
            raise FileNotFoundError(f"no run {rid} in {path.parent}")
        with RunLock(path, log=log):
            for child in path.iterdir():
                if child.name == "lock":
                    continue
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        log(f"[{rid}] cleared; it will be trained again")


def notebook_runs(notebook: str, profile: str, overrides: dict | None = None,
                  only: dict | None = None) -> tuple[dict, list]:
    """The profile's parameters and its runs (``labels`` and ``spec`` each; a
    run that is the prefix of a longer one is that one read at ``at_epoch``:
    ``lib.spec.read_prefixes``). ``only`` keeps the runs whose labels have
    these values (e.g. ``{"series": "decayed"}``)."""
    P = params_lib.load(notebook, profile, overrides)
    runs = read_prefixes(experiments.get(notebook).runs(P))
    if only:
        known = set().union(*(r["labels"] for r in runs)) if runs else set()
        unknown = set(only) - known
        if unknown:
            raise params_lib.ParamError(f"--only names label(s) {sorted(unknown)}; the runs of "
                                        f"{notebook!r} have {sorted(known)}")
        runs = [r for r in runs if all(r["labels"].get(k) == v for k, v in only.items())]
    return P, runs


def metrics_at(run: dict, epoch: int | None) -> dict:
    """A finished run's metrics as a run of its first ``epoch`` epochs would
    have recorded them (``None``: the whole run). Valid for a run that
    ``read_prefixes`` stands in for: those epochs are exactly the shorter run's."""
    m, h = run["metrics"], run["history"]
    if epoch is None or epoch == m["epochs"]:
        return m
    if not 0 < epoch < m["epochs"]:
        raise ValueError(f"run {run['id']} has {m['epochs']} epochs; cannot read epoch {epoch}")
    h = h[h["epoch"] <= epoch]
    train_seconds = float(h["train_seconds"].sum())
    train_images = m["train_images"] // m["epochs"] * epoch
    best = int(h["test_accuracy"].to_numpy().argmax())
    return {**m, "best_test_accuracy": float(h["test_accuracy"].iloc[best]),
            "best_epoch": best + 1, "final_test_accuracy": float(h["test_accuracy"].iloc[-1]),
            "final_train_accuracy": float(h["accuracy"].iloc[-1]), "epochs": epoch,
            "train_images": train_images, "train_seconds": train_seconds,
            "wall_seconds": float(h["epoch_seconds"].sum()),
            "images_per_second": train_images / max(train_seconds, 1e-9)}


def ensure_all(notebook: str, profile: str, overrides: dict | None = None, *, log=print,
               executor: str = "local", executor_options: dict | None = None,
               only: dict | None = None, wait: bool = True, **fit_options) -> pd.DataFrame:
    """Compute (or load) every run of a notebook's profile; one row per run
    with the case's columns, the seed, the run id and its metrics (read at
    the row's length where a longer run stands in for it). ``only`` selects
    runs by label (``notebook_runs``); ``wait=False`` leaves the runs another
    process is training to it and returns only the finished rows.

    ``executor="local"`` trains in this process, one run after another; runs
    another process is training are waited for at the end. ``"ray"`` makes
    each run a Ray task (``lib.executors``; ``executor_options`` go there)."""
    P, runs = notebook_runs(notebook, profile, overrides, only)
    distinct = {spec_id(r["spec"]): r for r in runs}   # rows may share a run
    todo = [r for r in distinct.values() if not is_finished(run_dir(r["spec"], profile))]
    log(f"{notebook}/{profile}: {len(distinct)} runs, {len(distinct) - len(todo)} cached, "
        f"{len(todo)} to train")
    for key, value in (P.get("runtime") or {}).items():   # e.g. jit_compile
        fit_options.setdefault(key, value)
    t0 = time.perf_counter()
    if executor == "ray":
        from . import executors
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
    else:
        raise ValueError(f"unknown executor {executor!r}; expected 'local' or 'ray'")
    rows = []
    for r in runs:
        if not wait and not is_finished(run_dir(r["spec"], profile)):
            continue
        run = load(run_dir(r["spec"], profile))
        m = metrics_at(run, r.get("at_epoch"))
        rows.append({**r["labels"], "run_id": run["id"], **{
            k: m[k] for k in ("best_test_accuracy", "final_test_accuracy", "final_train_accuracy",
                              "epochs", "train_images", "wall_seconds", "train_seconds",
                              "images_per_second")},
            "updates": m["train_images"] // r["spec"]["batch_size"]})
    log(f"{notebook}/{profile}: done in {time.perf_counter() - t0:.0f}s")
    return pd.DataFrame(rows)


class RunsFailed(RuntimeError):
    """Some runs of a distributed computation failed (the others finished)."""

    def __init__(self, failed: list[tuple[str, str]]):
        self.failed = failed
        super().__init__(f"{len(failed)} run(s) failed: " + "; ".join(
            f"{rid}: {err.strip().splitlines()[-1] if err.strip() else err}"
            for rid, err in failed))


def label_text(run: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in run["labels"].items())


def load_histories(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Long frame of every run's history, with the table's label columns."""
    frames = []
    for _, row in table.iterrows():
        h = load(profile_dir(profile) / "runs" / row["run_id"])["history"]
        h = h[h["epoch"] <= row["epochs"]].copy()   # a longer run read at the row's length
        for col in table.columns:
            if col not in h.columns:
                h[col] = row[col]
        frames.append(h)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- CLI
def _cmd_compute(args) -> int:
    overrides = {}
    if args.seeds:
        overrides["seeds"] = [int(s) for s in args.seeds.split(",")]
    options = {"mixed_precision": True} if args.mixed_precision else {}
    if args.xla:
        options["jit_compile"] = args.xla == "on"
    if args.recompute:
        recompute(args.recompute.split(","), args.profile)
    executor_options = {}
    if args.executor == "ray":
        executor_options = {"gpus_per_run": args.gpus_per_run, "cpus_per_run": args.cpus_per_run}
    only = dict(_label_value(o) for o in args.only or [])
    try:
        table = ensure_all(args.notebook, args.profile, overrides, executor=args.executor,
                           executor_options=executor_options, only=only,
                           wait=not args.no_wait, **options)
    except RunsFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(table.to_string(index=False))
    return 0


def _label_value(text: str) -> tuple[str, object]:
    """``"key=value"`` -> ``(key, value)``, the value read as YAML (``1``,
    ``0.2``, ``true``, ``long``)."""
    import yaml
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise params_lib.ParamError(f"--only {text!r}: expected LABEL=VALUE, e.g. series=long")
    return key, yaml.safe_load(value)


class RunStatus(NamedTuple):
    """What ``list`` and ``plan`` know of a run directory: ``status`` is
    finished / unfinished / training (locked by a live process) / corrupt /
    new; ``epochs_done`` counts the epochs a resume would keep (the
    checkpoint's); ``detail`` is the text ``list`` prints."""
    status: str
    epochs_done: int
    detail: str


def run_status(path: Path) -> RunStatus:
    """The :class:`RunStatus` of a run directory."""
    try:
        if (path / "spec.json").exists():
            read_json(path / "spec.json")
        if is_finished(path):
            m, _ = read_finished(path)
            return RunStatus("finished", m["epochs"], (
                f"final {m['final_test_accuracy']:.4f}  best {m['best_test_accuracy']:.4f}  "
                f"{m['epochs']} ep  train {m['train_images'] // m['epochs']:,}/ep  "
                f"test {m['test_images']:,}  {m['train_seconds']:.0f}s"))
        if not path.is_dir():
            return RunStatus("new", 0, "")
        read_history(path / "history.csv")        # raises if damaged
        saved = read_state(path)
        done = saved[0]["epochs_done"] if saved else 0
        if is_locked(path):
            return RunStatus("training", done,
                             f"{done} epochs done, by {describe(read_owner(path) or {})}")
        if (path / "spec.json").exists() or saved:
            return RunStatus("unfinished", done, f"{done} epochs done")
        return RunStatus("new", 0, "")
    except CorruptRunError as exc:
        return RunStatus("corrupt", 0, f"{exc.file}: {exc.reason}")


def _cmd_list(args) -> int:
    profiles = [args.profile] if args.profile else PROFILES
    for prof in profiles:
        root = profile_dir(prof) / "runs"
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if not d.is_dir():
                continue
            try:
                notebook = read_json(d / "spec.json").get("notebook", "?")
            except (CorruptRunError, FileNotFoundError):
                notebook = "?"
            status, _, detail = run_status(d)
            print(f"{prof:6s} {d.name}  {notebook:24s} {status:10s} {detail}")
    return 0


def _cmd_plan(args) -> int:
    from . import plan
    notebooks = experiments.names() if args.notebook == "all" else [args.notebook]
    print(plan.render(plan.plan(notebooks, args.profile), args.profile, args.tflops,
                      verbose=not args.totals))
    return 0


def _cmd_check(args) -> int:
    from . import plan
    table = plan.check(args.notebook, args.profile, steps=args.steps, max_batch=args.max_batch)
    print(table[["config_id", "run", "batch_size", "probe_batch", "mixing",
                 "train_gflop_per_image", "ok",
                 "images_per_second", "tflops", "seconds", "error"]].to_string(index=False))
    return 0 if table["ok"].all() else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.runs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    profile = dict(default=os.environ.get("ABLATION_PROFILE", "quick"), choices=PROFILES)
    c = sub.add_parser("compute", help="train or load every run of a notebook's profile")
    c.add_argument("notebook", choices=experiments.names())
    c.add_argument("--profile", **profile)
    c.add_argument("--seeds", help="comma-separated seeds overriding the profile's")
    c.add_argument("--mixed-precision", action="store_true",
                   help="compute in bfloat16 (GPU); recorded in each run's metrics.json")
    c.add_argument("--xla", choices=("on", "off"),
                   help="override the profile's runtime.jit_compile: a speed choice that depends "
                        "on the host (recorded as 'xla' in metrics.json, not part of the spec)")
    c.add_argument("--only", action="append", metavar="LABEL=VALUE",
                   help="only the runs whose label has this value (repeat: all must hold), "
                        "e.g. --only series=decayed")
    c.add_argument("--no-wait", action="store_true",
                   help="leave runs that another process is training to it instead of waiting "
                        "for them at the end (two processes working through one campaign)")
    c.add_argument("--recompute", metavar="ID[,ID...]",
                   help="clear these runs first (e.g. ones reported corrupt), then compute")
    c.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: one run after another in this process (default); ray: each "
                        "run a Ray task, on $RAY_ADDRESS's cluster if set, else a local Ray")
    c.add_argument("--gpus-per-run", type=float, default=None,
                   help="Ray: GPUs per run (default 1 when the cluster has GPUs, else 0)")
    c.add_argument("--cpus-per-run", type=float, default=1, help="Ray: CPUs per run (default 1)")
    c.set_defaults(func=_cmd_compute)
    pl = sub.add_parser("plan", help="what computing a profile would cost: runs, epochs, "
                                     "FLOPs, time here and on a GPU")
    pl.add_argument("notebook", choices=[*experiments.names(), "all"])
    pl.add_argument("--profile", **profile)
    pl.add_argument("--tflops", type=float, default=None,
                    help="also estimate the time at this sustained training rate (TFLOP/s)")
    pl.add_argument("--totals", action="store_true", help="only the per-notebook totals")
    pl.set_defaults(func=_cmd_plan)
    ck = sub.add_parser("check", help="build every distinct configuration of a profile and "
                                      "train a few steps of each on real data (temporary folder)")
    ck.add_argument("notebook", choices=experiments.names())
    ck.add_argument("--profile", **profile)
    ck.add_argument("--steps", type=int, default=3, help="timed training steps per configuration")
    ck.add_argument("--max-batch", type=int, default=None,
                    help="cap the batch size (a quicker start check; images/s then not stored)")
    ck.set_defaults(func=_cmd_check)
    ls = sub.add_parser("list", help="show cached runs")
    ls.add_argument("--profile", choices=PROFILES)
    ls.set_defaults(func=_cmd_list)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except (params_lib.ParamError, FileNotFoundError, CorruptRunError, Locked) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
