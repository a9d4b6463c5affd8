"""What computing a profile costs, before anything trains; and a check that
each of its configurations starts.

``plan``: every run of a profile, cached / unfinished (epochs done) /
training elsewhere / corrupt / new, and for what remains its epochs,
training images, FLOPs (``models.flops_per_image``: a training image costs
3x a forward pass, each evaluated test image 1x), the time on this machine
(from images/s that ``check`` measured here for that configuration) and the
time at a sustained rate given in TFLOP/s (a GPU's).

Speeds come from ``lib.measure.check``'s stored measurements, else from the
profile's finished runs of the same configuration on this kind of processor.

    python -m lib plan all --profile paper --tflops 300
"""

from __future__ import annotations

import json

import pandas as pd

from ..store import measurements
from ..store.paths import runs_dir
from ..store.runfiles import CorruptRunError, cpu_id, host_text, read_finished, read_json
from ..training.spec import configuration, setting, spec_id
from . import cache, profiles
from .params import ParamError

CIFAR10_TRAIN = 50_000


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
        from ..training import models
        _FLOPS[key] = models.flops_per_image(models.build(**model_cfg))["forward"]
    return _FLOPS[key]


# ---------------------------------------------------------------- measured images/s
def measured_throughput(profile: str, xla: bool | None = None) -> dict:
    """config id -> the latest ``check`` measurement (a dict) of ``profile``;
    with ``xla``, only checks that asked for XLA on (True) or off (False)."""
    out = {}
    for d in measurements.read_all(profile, "check"):
        asked = d["request"].get("jit_compile")
        if xla is not None and asked is not None and bool(asked) != xla:
            continue
        for row in d["rows"]:
            cid = row["config_id"]
            if cid not in out or row["measured_at"] > out[cid]["measured_at"]:
                out[cid] = row
    return out


def finished_throughput(profile: str, on_cpu: str | None, xla: bool | None = None) -> dict:
    """config id -> ``{"images_per_second", "runs", "xla"}``: the median
    training speed of the profile's finished runs of that configuration that
    trained on a processor of kind ``on_cpu`` (their ``metrics.json``; damaged
    runs are skipped, as everywhere). With ``xla``, the runs that trained with
    XLA as asked; a configuration none of whose runs did keeps the others'
    speed (Keras drops XLA for a model it cannot compile, so for some
    configurations no run ever records it). ``xla`` in each value: what its
    runs ran, None where they differ."""
    speeds: dict = {}
    root = runs_dir(profile)
    for d in sorted(root.iterdir()) if root.is_dir() and on_cpu else []:
        if not cache.is_finished(d):
            continue
        try:
            spec = read_json(d / "spec.json")
            metrics, _ = read_finished(d)
        except (CorruptRunError, FileNotFoundError):
            continue
        if metrics.get("cpu_id") == on_cpu:
            speeds.setdefault(spec_id(configuration(spec)), []).append(
                (bool(metrics.get("xla")), metrics["images_per_second"]))
    out = {}
    for cid, runs in speeds.items():
        used = [r for r in runs if xla is None or r[0] == xla] or runs
        ran = {x for x, _ in used}
        out[cid] = {"images_per_second": float(pd.Series([v for _, v in used]).median()),
                    "runs": len(used), "xla": ran.pop() if len(ran) == 1 else None}
    return out


# ---------------------------------------------------------------- plan
def plan(notebooks: list[str], profile: str, xla: bool | None = None) -> pd.DataFrame:
    """One row per distinct run of each notebook's ``profile`` (notebooks
    without that profile are left out): status, epochs and images left, FLOPs
    left, and seconds left on this machine where its configuration's speed is
    known: measured by ``check`` on this kind of processor, else the median of
    the profile's finished runs of that configuration on it, else ``check``'s
    measurement from another processor (``speed_from`` says which). With
    ``xla`` (``compute --xla``), speeds measured with XLA as asked, where any
    exist (XLA makes some processors much faster and others slower)."""
    checked = measured_throughput(profile, xla)
    from_runs = finished_throughput(profile, cpu_id(), xla)
    rows = []
    for nb in notebooks:
        try:
            _, runs = profiles.notebook_runs(nb, profile)
        except (ParamError, FileNotFoundError):
            continue
        distinct = {spec_id(r["spec"]): r for r in runs}   # rows may share a run
        for r in distinct.values():
            spec = r["spec"]
            path = cache.run_dir(spec, profile)
            st = cache.run_status(path)
            status, done = st.status, st.epochs_done
            left = spec["epochs"] - done
            cfg = configuration(spec)
            cid = spec_id(cfg)
            fwd = forward_flops(spec["model"])
            train_images = left * images_per_epoch(spec)
            eval_images = left * test_images(spec)
            # hosts of one name differ several-fold: this processor's own speeds first
            measured = checked.get(cid, {})
            here = measured.get("cpu_id") == cpu_id()
            speed, source = measured.get("images_per_second"), "check"
            if cid in from_runs and not (speed and here):
                speed, source = from_runs[cid]["images_per_second"], "finished runs"
                if xla is not None and from_runs[cid].get("xla") not in (None, xla):
                    source += f" (XLA {'on' if from_runs[cid]['xla'] else 'off'})"
            rows.append({
                "notebook": nb, "run_id": spec_id(spec), "run": profiles.label_text(r),
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
           verbose: bool = True, xla: bool | None = None) -> str:
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
                     + ", ".join(f"`python -m lib check {nb} --profile {profile}`"
                                 for nb in dict.fromkeys(unmeasured)))
    from_runs = table["speed_from"].fillna("").str.startswith("finished runs")
    if from_runs.any():
        asked = "" if xla is None else f", trained with XLA {'on' if xla else 'off'}"
        lines.append(f"time here partly from the median images/s of finished runs of the same "
                     f"configuration on this kind of processor ({cpu_id()}){asked}")
        other = table.loc[from_runs & (table["speed_from"] != "finished runs"), "notebook"]
        if len(other):
            lines.append(f"  no run of some configurations of {', '.join(dict.fromkeys(other))} "
                         f"trained here with XLA {'on' if xla else 'off'}: their time is that of "
                         f"runs with XLA {'off' if xla else 'on'} (speed_from)")
    speeds = measured_throughput(profile, xla)
    if speeds:
        where = sorted({f"{host_text(v)} ({v['backend']})" for v in speeds.values()})
        lines.append(f"time here from images/s measured by `check` on: {'; '.join(where)}")
        # hosts of one name differ several-fold in speed; cpu_id tells them apart
        here = cpu_id()
        if here and any(v.get("cpu_id") != here for v in speeds.values()):
            lines.append(f"  some of these were measured on another kind of processor than this "
                         f"one ({here}): rerun `check` here for hours that hold on this machine")
    return "\n".join(lines)
