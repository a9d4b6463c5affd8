"""The run cache: spec -> id -> ``<results>/<profile>/runs/<id>/``.

A finished run (one with ``metrics.json``) is loaded, never retrained; an
unfinished one is resumed. One process trains a run at a time
(``lib.store.runlock``): ``ensure`` waits for a run another live process
holds, or raises ``Locked``. Files that cannot be what the trainer wrote
raise ``CorruptRunError`` naming the run and the file; they are never loaded
as a result. ``run_status`` says what a run directory holds.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..store.paths import runs_dir
from ..store.runfiles import CorruptRunError, read_finished, read_history, read_json, read_state
from ..store.runlock import Locked, RunLock, describe, is_locked, read_owner
from ..training.spec import spec_id


def run_dir(spec: dict, profile: str) -> Path:
    return runs_dir(profile) / spec_id(spec)


def is_finished(path: Path) -> bool:
    """Whether the run claims to be finished (``load`` checks that claim)."""
    return (path / "metrics.json").exists()


def finished_specs(profile: str) -> list[dict]:
    """The specs of the profile's finished runs on disk."""
    return [read_json(p / "spec.json") for p in sorted(runs_dir(profile).glob("*"))
            if is_finished(p)]


def stand_in(spec: dict, profile: str, finished: list[dict] | None = None):
    """``(spec, at_epoch)`` of a finished run that holds ``spec``'s epochs:
    its own run (``at_epoch`` None), or else a longer finished run of which it
    is the prefix (``training.spec.is_prefix``), read at ``spec["epochs"]``; None
    if there is neither. ``finished``: ``finished_specs(profile)``, if at hand."""
    from ..training.spec import is_prefix

    if is_finished(run_dir(spec, profile)):
        return spec, None
    longer = [s for s in (finished_specs(profile) if finished is None else finished)
              if is_prefix(spec, s)]
    if not longer:
        return None
    return min(longer, key=lambda s: s["epochs"]), spec["epochs"]


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
                    from ..training import train   # Keras is needed only to train
                    train.fit(spec, path, log=log, **fit_options)
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
        path = runs_dir(profile) / rid
        if not path.is_dir():
            raise FileNotFoundError(f"no run {rid} in {path.parent}")
        with RunLock(path, log=log):
            for child in path.iterdir():
                if child.name == "lock":
                    continue
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        log(f"[{rid}] cleared; it will be trained again")


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




#: history columns a prefix run must match exactly (timings vary between runs)
TRAINED_COLUMNS = ("epoch", "loss", "accuracy", "test_loss", "test_accuracy", "lr")


class PrefixMismatch(NamedTuple):
    short: str
    long: str
    column: str


def retire_prefixes(profile: str, *, delete: bool = False, planned: list | None = None,
                    log=print) -> list:
    """The finished runs that are the first epochs of a longer finished run
    (``training.spec.is_prefix``), checked against it: where every column of
    ``TRAINED_COLUMNS`` of the short run's history equals the long run's first
    epochs, the short run is redundant and (``delete``) removed; otherwise it
    stays and is returned as a ``PrefixMismatch`` (the longer run did not
    retrace it: a bug to look at, not a run to drop).

    ``planned``: the specs the profiles define (``None``: not consulted). A
    short run that none of them is, whose longer run is one of them, is
    superseded: no row reads it any more (a row of its length reads the longer
    run), so it goes too, retraced or not (another processor rounds
    differently)."""
    from ..training.spec import is_prefix

    planned_ids = None if planned is None else {spec_id(s) for s in planned}
    finished = {p.name: load(p) for p in sorted(runs_dir(profile).glob("*"))
                if p.is_dir() and is_finished(p)}
    mismatches = []
    for short_id, short in finished.items():
        longer = [r for r in finished.values() if is_prefix(short["spec"], r["spec"])]
        unplanned = planned_ids is not None and short_id not in planned_ids
        superseding = [r["id"] for r in longer if unplanned and r["id"] in planned_ids]
        if superseding:
            log(f"{short_id}: no profile row reads it; its {short['spec']['epochs']} epochs are "
                f"read from {superseding[0]}" + ("; removed" if delete else ""))
            if delete:
                shutil.rmtree(runs_dir(profile) / short_id)
            continue
        for long in longer:
            head = long["history"].iloc[:len(short["history"])].reset_index(drop=True)
            differ = [c for c in TRAINED_COLUMNS if not short["history"][c].equals(head[c])]
            if differ:
                mismatches.append(PrefixMismatch(short_id, long["id"], differ[0]))
                cpus = {r["metrics"].get("cpu_id") for r in (short, long)}
                why = "trained on different processors" if len(cpus) > 1 else "a bug to look at"
                log(f"{short_id}: not the first {short['spec']['epochs']} epochs of "
                    f"{long['id']} ({differ[0]} differs: {why}); kept")
                break
        else:
            if longer:
                log(f"{short_id}: the first {short['spec']['epochs']} epochs of "
                    f"{longer[0]['id']}, bit for bit" + ("; removed" if delete else ""))
                if delete:
                    shutil.rmtree(runs_dir(profile) / short_id)
    return mismatches
