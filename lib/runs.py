"""Run cache: spec -> id -> ``<results>/<profile>/runs/<id>/``.

A finished run (one with ``metrics.json``) is loaded, never retrained; an
unfinished one is resumed. The CLI computes a notebook's runs without Jupyter:

    python -m lib.runs compute bc_learning --profile quick
    python -m lib.runs list [--profile quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

from . import experiments, params as params_lib
from .runfiles import read_history
from .spec import spec_id

PROFILES = ("smoke", "quick", "budget", "paper")


REPO = Path(__file__).resolve().parent.parent


def results_root() -> Path:
    """``$ABLATION_RESULTS_DIR``, else the repository's ``results/`` (absolute,
    so notebooks find it whatever their working directory)."""
    return Path(os.environ.get("ABLATION_RESULTS_DIR") or REPO / "results")


def profile_dir(profile: str) -> Path:
    return results_root() / profile


def run_dir(spec: dict, profile: str) -> Path:
    return profile_dir(profile) / "runs" / spec_id(spec)


def is_finished(path: Path) -> bool:
    return (path / "metrics.json").exists()


def load(path: Path) -> dict:
    return {"id": path.name, "spec": json.loads((path / "spec.json").read_text()),
            "history": pd.DataFrame(read_history(path / "history.csv")),
            "metrics": json.loads((path / "metrics.json").read_text())}


def ensure(spec: dict, profile: str, *, log=print, **fit_options) -> dict:
    """Load the finished run for ``spec`` or train (or resume) it first."""
    path = run_dir(spec, profile)
    if is_finished(path):
        return load(path)
    from .train import fit  # the trainer is needed only when a run must be trained
    fit(spec, path, log=log, **fit_options)
    return load(path)


def ensure_all(notebook: str, profile: str, overrides: dict | None = None, *, log=print,
               **fit_options) -> pd.DataFrame:
    """Compute (or load) every run of a notebook's profile; one row per run
    with the case's columns, the seed, the run id and its metrics."""
    P = params_lib.load(notebook, profile, overrides)
    runs = experiments.get(notebook).runs(P)
    todo = sum(not is_finished(run_dir(r["spec"], profile)) for r in runs)
    log(f"{notebook}/{profile}: {len(runs)} runs, {len(runs) - todo} cached, {todo} to train")
    for key, value in (P.get("runtime") or {}).items():   # e.g. jit_compile
        fit_options.setdefault(key, value)
    rows, t0 = [], time.perf_counter()
    for i, r in enumerate(runs, 1):
        tag = ", ".join(f"{k}={v}" for k, v in r["labels"].items())
        cached = is_finished(run_dir(r["spec"], profile))
        if not cached:
            log(f"({i}/{len(runs)}) training {tag}")
        run = ensure(r["spec"], profile, log=log, **fit_options)
        m = run["metrics"]
        rows.append({**r["labels"], "run_id": run["id"], **{
            k: m[k] for k in ("best_test_accuracy", "final_test_accuracy", "final_train_accuracy",
                              "epochs", "train_images", "wall_seconds", "train_seconds",
                              "images_per_second")},
            "updates": m["train_images"] // r["spec"]["batch_size"]})
    log(f"{notebook}/{profile}: done in {time.perf_counter() - t0:.0f}s")
    return pd.DataFrame(rows)


def load_histories(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Long frame of every run's history, with the table's label columns."""
    frames = []
    for _, row in table.iterrows():
        h = load(profile_dir(profile) / "runs" / row["run_id"])["history"].copy()
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
    table = ensure_all(args.notebook, args.profile, overrides, **options)
    print(table.to_string(index=False))
    return 0


def _cmd_list(args) -> int:
    profiles = [args.profile] if args.profile else PROFILES
    for prof in profiles:
        root = profile_dir(prof) / "runs"
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if not (d / "spec.json").exists():
                continue
            spec = json.loads((d / "spec.json").read_text())
            if is_finished(d):
                m = json.loads((d / "metrics.json").read_text())
                status = (f"finished  final {m['final_test_accuracy']:.4f}  "
                          f"best {m['best_test_accuracy']:.4f}  {m['epochs']} ep  "
                          f"train {m['train_images'] // m['epochs']:,}/ep  "
                          f"test {m['test_images']:,}  {m['train_seconds']:.0f}s")
            else:
                status = f"unfinished ({len(read_history(d / 'history.csv'))} epochs done)"
            print(f"{prof:6s} {d.name}  {spec.get('notebook', '?'):24s} {status}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.runs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compute", help="train or load every run of a notebook's profile")
    c.add_argument("notebook", choices=experiments.names())
    c.add_argument("--profile", default=os.environ.get("ABLATION_PROFILE", "quick"),
                   choices=PROFILES)
    c.add_argument("--seeds", help="comma-separated seeds overriding the profile's")
    c.add_argument("--mixed-precision", action="store_true",
                   help="compute in bfloat16 (GPU); recorded in each run's metrics.json")
    c.set_defaults(func=_cmd_compute)
    ls = sub.add_parser("list", help="show cached runs")
    ls.add_argument("--profile", choices=PROFILES)
    ls.set_defaults(func=_cmd_list)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except (params_lib.ParamError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
