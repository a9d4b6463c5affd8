"""Calibration of the ``budget`` profile on the machine at hand.

    python -m lib calibrate [--profile budget] [--batches 10] [--repeats 2]

Measures, in one process and in interleaved rounds (so a slow spell of the
machine hits every configuration alike), the training throughput of each
candidate configuration *as a run trains it*: the profile's real data, input
pipeline, model, loss and optimizer, with and without XLA. Each is set
against the machine's float32 matmul peak. It also tabulates the test
accuracy per epoch and per training hour of the BC baseline at each width
(finished runs only). The width candidates of ``cnn10``
(the BC-learning baseline, case 0) and the batch-size candidates of ResNet-20
(the mixup baseline, alpha 0) come from the profile files. Results are cached
under ``results/<profile>/timings/`` like every timing, and written as
``tables/calibration_{throughput,accuracy}.{csv,md}``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..campaign import cache, compute, profiles
from . import benchmark, timing
from ..campaign.experiments import bc_learning, mixup_baseline
from ..store.runfiles import host_text
from ..training.spec import configuration, spec_id

#: Why the ResNet-20 candidates with the example's augmentation layers have no XLA timing.
NO_XLA_NOTE = "XLA: not timed (Keras runs these augmentation layers without it)"

#: Candidates measured besides each profile's own configuration.
CNN10_WIDTHS = (16, 24, 32)
RESNET_BATCH_SIZES = (32, 128)


def candidate_specs(profile: str) -> dict[str, tuple[dict, tuple]]:
    """Name -> (run spec at seed 0, the XLA settings to time it with)."""
    bc = bc_learning.case_spec(profiles.load("bc_learning", profile), 0, 0)
    mx = mixup_baseline.alpha_spec(profiles.load("mixup_baseline", profile), 0.0, 0)
    out = {f"cnn10 w{w} batch {bc['batch_size']} (BC case 0)":
           ({**bc, "model": {**bc["model"], "width": w}}, (True, False)) for w in CNN10_WIDTHS}
    # the example's DA as Keras layers: TensorFlow cannot use XLA with them (Keras drops it)
    layers = {**mx, "augment": {"standard_da": False, "keras_da": mixup_baseline.EXAMPLE_DA}}
    out.update({f"resnet20 v1 batch {b} (mixup alpha 0)": ({**layers, "batch_size": b}, (False,))
                for b in RESNET_BATCH_SIZES})
    # what those layers cost, and what XLA gives without them
    out[f"resnet20 v1 batch {mx['batch_size']}, DA layers removed"] = (
        {**mx, "augment": {"standard_da": False}}, (True, False))
    return out


def _config_id(spec: dict) -> str:
    """The measurement's key for a candidate: its configuration (what decides
    its speed), never its display name."""
    return spec_id(configuration(spec))


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure_throughput(specs: dict, batches: int = 10, repeats: int = 2) -> pd.DataFrame:
    """One row per (configuration, XLA, round): training images/s through the
    run's own pipeline (``model.fit`` on ``MixingBatches``) net of the fixed
    cost of a ``fit`` call (also reported), the seconds to evaluate the
    10,000 test images, and the model's training FLOPs/image."""

    from ..training import data, models, train

    built = {}
    for name, (spec, xla_settings) in specs.items():
        xtr, ytr, xte, yte = data.load_data(spec["dataset"])
        for jit in xla_settings:
            batches_ = train.make_batches(spec, xtr, ytr)
            model = train.build_model(spec)
            model.compile(optimizer=train.make_optimizer(spec["optimizer"]),
                          loss=train.make_loss(spec["loss"]), jit_compile=jit)
            model.fit(batches_, epochs=1, steps_per_epoch=2, verbose=0)   # compile
            # evaluation cost, timed once on 2,000 test images, scaled to 10,000
            x_test = np.asarray(xte[:2000], np.float32) / 255.0
            y_test = np.eye(10, dtype=np.float32)[yte[:2000]]
            model.evaluate(x_test[:1000], y_test[:1000], batch_size=1000, verbose=0)
            ev = 5 * _seconds(lambda: model.evaluate(x_test, y_test, batch_size=1000, verbose=0))
            # Keras turns XLA off for models with layers it deems not jit-able
            built[name, jit] = (spec, batches_, model, ev, bool(model.jit_compile))
    rows = []
    for r in range(repeats):
        for (name, jit), (spec, batches_, model, ev, active) in built.items():
            # every fit call has a fixed cost (worker threads, iterator, callbacks):
            # time a short and a 3x longer call, and take the training rate from the
            # difference and that fixed cost from the rest
            batches_.set_epoch(2 * r + 1)
            short = _seconds(lambda: model.fit(batches_, epochs=1, steps_per_epoch=batches,
                                               verbose=0))
            batches_.set_epoch(2 * r + 2)
            long = _seconds(lambda: model.fit(batches_, epochs=1, steps_per_epoch=3 * batches,
                                              verbose=0))
            per_batch = max(long - short, 1e-9) / (2 * batches)
            rows.append({"config_id": _config_id(spec), "xla": jit, "xla_active": active, "round": r,
                         "images_per_second": spec["batch_size"] / per_batch,
                         "fit_call_overhead_seconds": short - batches * per_batch,
                         "eval_seconds": ev,
                         "train_flops_per_image": models.flops_per_image(model)["train"]})
            print(f"round {r + 1}/{repeats}  {name:45s} xla={jit!s:5s} (active {active!s:5s}) "
                  f"{rows[-1]['images_per_second']:7.1f} img/s  fit overhead "
                  f"{rows[-1]['fit_call_overhead_seconds']:5.2f}s  eval {ev:5.1f}s", flush=True)
    return pd.DataFrame(rows)


def throughput_table(profile: str, batches: int = 10, repeats: int = 2) -> pd.DataFrame:
    """The calibration table (cached measurements): median images/s per
    configuration and XLA setting, GFLOP/s and its fraction of the matmul
    peak, and the seconds one full-data epoch (50,000 images + test) takes.
    The fixed cost of a ``fit`` call is a difference of two timings: where it
    is smaller than their noise it comes out near zero or negative, which
    reads as "too small to measure" (it stays as measured)."""
    specs = candidate_specs(profile)
    request = {"configurations": sorted([_config_id(s), list(x)] for s, x in specs.values()),
               "batches": batches, "repeats": repeats}
    rows = timing.cached_measurement("calibration_throughput", request, profile,
                                     lambda: measure_throughput(specs, batches, repeats))
    names = {_config_id(s): name for name, (s, _) in specs.items()}
    rows = rows.assign(config=rows["config_id"].map(names))
    peak = timing.cached_measurement("matmul_peak", {"n": 2048}, profile, lambda: pd.DataFrame(
        [{"gflops": benchmark.matmul_peak_gflops()}]))["gflops"].iloc[0]
    g = rows.groupby(["config", "xla"], sort=False)
    out = g.agg(xla_active=("xla_active", "first"),
                images_per_second=("images_per_second", "median"),
                fit_call_overhead_seconds=("fit_call_overhead_seconds", "median"),
                eval_seconds=("eval_seconds", "median"),
                flops=("train_flops_per_image", "first")).reset_index()
    out["gflops"] = out["images_per_second"] * out["flops"] / 1e9
    out["of_peak"] = out["gflops"] / peak
    out["epoch_seconds"] = 50_000 / out["images_per_second"] + out["eval_seconds"]
    out["faster"] = out.groupby("config")["images_per_second"].transform("max") == \
        out["images_per_second"]
    out = out.drop(columns="flops")
    out.attrs.update(peak_gflops=float(peak), measured_on=rows.attrs.get("measured_on", ""))
    return out


def accuracy_table(profile: str) -> pd.DataFrame:
    """Test accuracy after each epoch of the BC baseline (case 0, constant
    rate) per width, with the training seconds it took: width 16 from the
    notebook's main case-0 runs, other widths from the calibration runs.
    Only finished runs are read; nothing is trained."""
    rows, hosts = [], set()
    finished = cache.finished_specs(profile)
    sources = [("bc_learning", lambda r: r["labels"]["case"] == 0 and
                r["labels"]["budget"] == 1.0 and r["labels"]["series"] == "article"),
               ("calibration", lambda r: True)]
    for notebook, keep in sources:
        for r in profiles.notebook_runs(notebook, profile)[1]:
            # a row read from a longer unfinished run: a finished run holding its epochs stands in
            source = compute.row_source(r, profile, wait=False, finished=lambda: finished) \
                if keep(r) else None
            if source is None:
                continue
            spec, at_epoch = source
            run = cache.load(cache.run_dir(spec, profile))
            h = run["history"]
            h = h[h["epoch"] <= (at_epoch or r["spec"]["epochs"])]   # a longer run read at this length
            hosts.add(host_text(run["metrics"]) or "unrecorded")
            for _, e in h.iterrows():
                rows.append({"width": r["spec"]["model"]["width"], "seed": r["spec"]["seed"],
                             "epoch": int(e["epoch"]), "test_accuracy": e["test_accuracy"],
                             "train_hours": h["train_seconds"][:int(e["epoch"])].sum() / 3600})
    if not rows:
        return pd.DataFrame(columns=["width", "epoch", "n_seeds", "test_accuracy_mean",
                                     "train_hours_mean"])
    t = pd.DataFrame(rows)
    out = (t.groupby(["width", "epoch"])
            .agg(n_seeds=("seed", "size"), test_accuracy_mean=("test_accuracy", "mean"),
                 train_hours_mean=("train_hours", "mean"))
            .reset_index())
    out.attrs["trained_on"] = "; ".join(sorted(hosts))
    return out
