"""``check``: every distinct configuration (model, loss, mixing,
augmentation, batch) of a profile trains for two short epochs on real data
in a temporary folder, through the same ``train.fit`` as a run; the second
epoch's images/s is stored (``lib.store.measurements``, kind ``check``) for
``plan``. A failing configuration is reported, and the others still run.

    python -m lib check bc_learning --profile paper
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from ..campaign import profiles
from ..campaign.plan import forward_flops, images_per_epoch
from ..store import measurements
from ..store.runfiles import environment, read_history
from ..training.spec import configuration, setting, spec_id


def _probe_spec(spec: dict, steps: int, max_batch: int | None = None) -> dict:
    """The run's spec shrunk to two epochs of ``steps`` batches of real data
    (and 100 test/validation images); everything else unchanged, except that
    ``max_batch`` caps the batch (BC's groups shrink in proportion)."""
    batch = spec["batch_size"]
    step = setting(spec, "mixing.step_size") or batch
    if max_batch and batch > max_batch:
        partners = batch // step          # images built from each anchor (BC), else 1
        step = max(1, step * max_batch // batch)
        batch = step * partners
        spec = {**spec, "batch_size": batch}
        if "step_size" in spec["mixing"]:
            spec["mixing"] = {**spec["mixing"], "step_size": step}
    steps = max(steps, -(-10 // step))   # a subset holds at least one image per class
    ds = {**spec["dataset"], "train_subset": steps * step, "test_subset": 100}
    if ds.get("val_subset"):
        ds["val_subset"] = 100
    return {**spec, "dataset": ds, "epochs": 2}


def check(notebook: str, profile: str, *, steps: int = 3, max_batch: int | None = None,
          log=print) -> pd.DataFrame:
    """Build and train every distinct configuration of the profile (see the
    module docstring); one row each with images/s, FLOPs and whether it ran.
    Measurements are stored for ``plan``, unless ``max_batch`` capped a batch
    (a quicker proof that everything starts; its speeds are not the runs')."""
    from ..training import train   # Keras only when a check runs

    P, runs = profiles.notebook_runs(notebook, profile)
    jit = (P.get("runtime") or {}).get("jit_compile", True)
    configs: dict = {}
    for r in runs:
        configs.setdefault(spec_id(configuration(r["spec"])), r)
    env = environment()
    log(f"check {notebook}/{profile}: {len(configs)} configurations, {steps} steps each, "
        f"backend {env['backend']}, XLA {jit}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ablation-check-") as tmp:
        for i, (cid, r) in enumerate(configs.items(), 1):
            spec = _probe_spec(r["spec"], steps, max_batch)
            row = {"config_id": cid, "run": profiles.label_text(r),
                   "model": json.dumps(spec["model"]), "batch_size": r["spec"]["batch_size"],
                   "probe_batch": spec["batch_size"],
                   "mixing": spec["mixing"]["name"], "train_gflop_per_image":
                   3 * forward_flops(spec["model"]) / 1e9}
            t0 = time.perf_counter()
            try:
                train.fit(spec, Path(tmp) / cid, jit_compile=jit, log=lambda s: None)
                second = read_history(Path(tmp) / cid / "history.csv")[1]
                ips = images_per_epoch(spec) / second["train_seconds"]
                row.update(ok=True, images_per_second=ips,
                           tflops=ips * row["train_gflop_per_image"] / 1e3, error="")
            except Exception as exc:   # report every configuration, then fail as a whole
                row.update(ok=False, images_per_second=None, tflops=None,
                           error=f"{type(exc).__name__}: {exc}".splitlines()[0][:200])
            row.update(seconds=time.perf_counter() - t0, backend=env["backend"], cpu=env["cpu"],
                       cpu_id=env.get("cpu_id"),
                       measured_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            log(f"({i}/{len(configs)}) {row['run']}: " + (
                f"{row['images_per_second']:.0f} images/s" if row["ok"] else row["error"]))
            rows.append(row)
    table = pd.DataFrame(rows)
    measured = table[table["ok"] & (table["probe_batch"] == table["batch_size"])]
    if len(measured):
        request = {"kind": "check", "notebook": notebook, "backend": env["backend"],
                   "steps": steps, "jit_compile": jit}
        measurements.write(profile, request, list(measured.columns),
                           measured.to_dict("records"), env)
    return table
