"""What computing a profile costs, before anything trains; and a check that
each of its configurations starts.

``plan``: every run of a profile, cached / unfinished (epochs done) /
training elsewhere / corrupt / new, and for what remains its epochs,
training images, FLOPs (``models.flops_per_image``: a training image costs
3x a forward pass, each evaluated test image 1x), the time on this machine
(from images/s that ``check`` measured here for that configuration) and the
time at a sustained rate given in TFLOP/s (a GPU's).

``check``: builds every distinct configuration (model, loss, mixing,
augmentation, batch) of a profile and trains it for two short epochs on real
data in a temporary folder, through the same ``train.fit`` as a run; the
second epoch's images/s is stored under ``results/<profile>/timings/`` for
``plan``.

    python -m lib.runs plan all --profile paper --tflops 300
    python -m lib.runs check bc_learning --profile paper
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from . import runs as runs_lib
from .runfiles import cpu_id, environment, host_text, read_history, write_json
from .spec import setting, spec_id

CIFAR10_TRAIN = 50_000


def configuration(spec: dict) -> dict:
    """What of a spec decides the computation of a training step (not its
    length, schedule, seed, learning rate or data subset)."""
    return {"model": spec["model"], "loss": spec["loss"]["name"],
            "optimizer": spec["optimizer"]["name"], "mixing": spec["mixing"]["name"],
            "step_size": setting(spec, "mixing.step_size") or spec["batch_size"],
            "augment": spec["augment"], "batch_size": spec["batch_size"],
            "input": setting(spec, "input")}


def images_per_epoch(spec: dict) -> int:
    """Training images one epoch feeds the model (``MixingBatches``: one batch
    per ``step_size`` images of the training set)."""
    ds = spec["dataset"]
    n = ds.get("train_subset") or CIFAR10_TRAIN - (ds.get("val_subset") or 0)
    step = setting(spec, "mixing.step_size") or spec["batch_size"]
    return n // step * spec["batch_size"]


def test_images(spec: dict) -> int:
    ds = spec["dataset"]
    return (ds.get("test_subset") or 10_000) + (ds.get("val_subset") or 0)


_FLOPS: dict = {}


def forward_flops(model_cfg: dict) -> int:
    """Forward FLOPs per image of a model configuration (built once)."""
    key = json.dumps(model_cfg, sort_keys=True)
    if key not in _FLOPS:
        from . import models
        _FLOPS[key] = models.flops_per_image(models.build(**model_cfg))["forward"]
    return _FLOPS[key]


# ---------------------------------------------------------------- measured images/s
def _timings(profile: str) -> Path:
    return runs_lib.profile_dir(profile) / "timings"


def measured_throughput(profile: str) -> dict:
    """config id -> the latest ``check`` measurement (a dict) of ``profile``."""
    out = {}
    for p in sorted(_timings(profile).glob("*.json")):
        d = json.loads(p.read_text())
        if d.get("request", {}).get("kind") != "check":
            continue
        for row in d["rows"]:
            cid = row["config_id"]
            if cid not in out or row["measured_at"] > out[cid]["measured_at"]:
                out[cid] = row
    return out


def finished_throughput(profile: str, on_cpu: str | None) -> dict:
    """config id -> ``{"images_per_second", "runs"}``: the median training
    speed of the profile's finished runs of that configuration that trained
    on a processor of kind ``on_cpu`` (their ``metrics.json``; damaged runs
    are skipped, as everywhere)."""
    from .runfiles import CorruptRunError, read_finished, read_json

    speeds: dict = {}
    root = runs_lib.profile_dir(profile) / "runs"
    for d in sorted(root.iterdir()) if root.is_dir() and on_cpu else []:
        if not runs_lib.is_finished(d):
            continue
        try:
            spec = read_json(d / "spec.json")
            metrics, _ = read_finished(d)
        except (CorruptRunError, FileNotFoundError):
            continue
        if metrics.get("cpu_id") == on_cpu:
            speeds.setdefault(spec_id(configuration(spec)), []).append(
                metrics["images_per_second"])
    return {cid: {"images_per_second": float(pd.Series(v).median()), "runs": len(v)}
            for cid, v in speeds.items()}


# ---------------------------------------------------------------- plan
def plan(notebooks: list[str], profile: str) -> pd.DataFrame:
    """One row per distinct run of each notebook's ``profile`` (notebooks
    without that profile are left out): status, epochs and images left, FLOPs
    left, and seconds left on this machine where its configuration's speed is
    known: measured by ``check``, else the median of the profile's finished
    runs of that configuration on this kind of processor (``speed_from``)."""
    from .params import ParamError

    checked = measured_throughput(profile)
    from_runs = finished_throughput(profile, cpu_id())
    rows = []
    for nb in notebooks:
        try:
            _, runs = runs_lib.notebook_runs(nb, profile)
        except (ParamError, FileNotFoundError):
            continue
        distinct = {spec_id(r["spec"]): r for r in runs}   # rows may share a run
        for r in distinct.values():
            spec = r["spec"]
            path = runs_lib.run_dir(spec, profile)
            status, done, _ = runs_lib.run_status(path)
            left = spec["epochs"] - done
            cfg = configuration(spec)
            cid = spec_id(cfg)
            fwd = forward_flops(spec["model"])
            train_images = left * images_per_epoch(spec)
            eval_images = left * test_images(spec)
            speed, source = checked.get(cid, {}).get("images_per_second"), "check"
            if not speed and cid in from_runs:
                speed, source = from_runs[cid]["images_per_second"], "finished runs"
            rows.append({
                "notebook": nb, "run_id": spec_id(spec), "run": runs_lib.label_text(r),
                "status": status, "epochs": spec["epochs"], "epochs_done": done,
                "epochs_left": left, "train_images_left": train_images,
                "flops_left": 3 * fwd * train_images + fwd * eval_images,
                # evaluation (a forward pass) taken as a third of a training step's time
                "seconds_here": ((train_images + eval_images / 3) / speed) if speed else None,
                "config_id": cid, "images_per_second_here": speed,
                "speed_from": source if speed else None})
    return pd.DataFrame(rows)


def totals(table: pd.DataFrame, tflops: float | None = None) -> pd.DataFrame:
    """Per notebook and overall: runs by status, epochs, images and EFLOP
    left, hours here (None where a configuration is unmeasured) and at
    ``tflops``."""
    def one(g):
        known = g["seconds_here"].notna() | (g["epochs_left"] == 0)
        out = {"runs": len(g), "cached": int((g["status"] == "finished").sum()),
               "unfinished": int(g["status"].isin(["unfinished", "training"]).sum()),
               "new": int((g["status"] == "new").sum()),
               "corrupt": int((g["status"] == "corrupt").sum()),
               "epochs_left": int(g["epochs_left"].sum()),
               "train_images_left": int(g["train_images_left"].sum()),
               "eflop_left": g["flops_left"].sum() / 1e18,
               "hours_here": (g["seconds_here"].fillna(0).sum() / 3600) if known.all() else None}
        if tflops:
            out[f"hours_at_{tflops:g}_tflops"] = g["flops_left"].sum() / (tflops * 1e12) / 3600
        return out

    rows = [{"notebook": nb, **one(g)} for nb, g in table.groupby("notebook", sort=False)]
    if table["notebook"].nunique() > 1:
        rows.append({"notebook": "all", **one(table)})
    return pd.DataFrame(rows)


def render(table: pd.DataFrame, profile: str, tflops: float | None = None,
           verbose: bool = True) -> str:
    if table.empty:
        return f"no notebook has a {profile!r} profile"
    lines = []
    if verbose:
        show = table[["notebook", "run_id", "run", "status", "epochs_done", "epochs",
                      "train_images_left", "flops_left", "seconds_here"]].copy()
        show["flops_left"] = show["flops_left"].map(lambda f: f"{f / 1e15:,.1f} PFLOP")
        show["seconds_here"] = show["seconds_here"].map(
            lambda s: "unmeasured" if pd.isna(s) else f"{s / 3600:,.1f} h")
        show = show.rename(columns={"seconds_here": "time_here", "epochs_done": "done"})
        lines += [show.to_string(index=False), ""]
    tot = totals(table, tflops)
    tot["eflop_left"] = tot["eflop_left"].map(lambda e: f"{e:.3f}")
    tot["hours_here"] = tot["hours_here"].map(lambda h: "?" if h is None or pd.isna(h)
                                              else f"{h:,.1f}")
    for col in [c for c in tot.columns if c.startswith("hours_at_")]:
        tot[col] = tot[col].map(lambda h: f"{h:,.2f}")
    lines.append(f"profile {profile}: what remains to compute")
    lines.append(tot.to_string(index=False))
    unmeasured = table.loc[table["seconds_here"].isna() & (table["epochs_left"] > 0), "notebook"]
    if len(unmeasured):
        lines.append("hours_here '?': a configuration has no images/s measured here; run "
                     + ", ".join(f"`python -m lib.runs check {nb} --profile {profile}`"
                                 for nb in dict.fromkeys(unmeasured)))
    if table["speed_from"].eq("finished runs").any():
        lines.append(f"time here partly from the median images/s of finished runs of the same "
                     f"configuration on this kind of processor ({cpu_id()})")
    speeds = measured_throughput(profile)
    if speeds:
        where = sorted({f"{host_text(v)} ({v['backend']})" for v in speeds.values()})
        lines.append(f"time here from images/s measured by `check` on: {'; '.join(where)}")
        # hosts of one name differ several-fold in speed; cpu_id tells them apart
        here = cpu_id()
        if here and any(v.get("cpu_id") != here for v in speeds.values()):
            lines.append(f"  some of these were measured on another kind of processor than this "
                         f"one ({here}): rerun `check` here for hours that hold on this machine")
    return "\n".join(lines)


# ---------------------------------------------------------------- check
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
    from . import train

    P, runs = runs_lib.notebook_runs(notebook, profile)
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
            row = {"config_id": cid, "run": runs_lib.label_text(r),
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
        path = _timings(profile) / f"{spec_id(request)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {"request": request, "columns": list(measured.columns),
                          "rows": measured.to_dict("records"), "environment": env,
                          "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    return table
