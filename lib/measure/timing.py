"""Timings the notebooks report (training-step time, batch-1 latency),
measured once and cached like runs, so that a render re-measures nothing.

Each is stored through ``lib.store.measurements`` (one file per request:
models, batch size, repeats, XLA, backend), with the machine and the date;
delete the file to measure again on another machine.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..store import measurements
from ..store.paths import profile_dir
from ..store.runfiles import environment, host_text


def cached_measurement(kind: str, request: dict, profile: str, measure,
                       log=print) -> pd.DataFrame:
    """``measure()`` (a DataFrame) the first time this request is made for
    ``profile``, else the stored frame."""
    import keras

    request = {"kind": kind, "backend": keras.backend.backend(), **request}
    if measurements.read(profile, request) is None:
        path = measurements.path_for(profile, request)
        log(f"measuring {kind} (cached in {path.relative_to(profile_dir(profile).parent)})")
        rows = measure()
        measurements.write(profile, request, list(rows.columns), rows.to_dict("records"),
                           environment())
    stored = measurements.read(profile, request)   # read back: every render sees the same frame
    frame = pd.DataFrame(stored["rows"])[stored["columns"]]
    env = stored["environment"]
    cpu = host_text(env)
    frame.attrs["measured_on"] = (f"{cpu} ({env.get('cpu_count')} cores), "
                                  f"{env['backend']}, {stored['measured_at']}")
    return frame


def measured_on(profile: str) -> list[dict]:
    """Machine and date of every cached timing of ``profile``."""
    out = []
    for d in measurements.read_all(profile):
        out.append({"kind": d["request"]["kind"], "cpu": d["environment"].get("cpu"),
                    "cpu_count": d["environment"].get("cpu_count"),
                    "backend": d["environment"]["backend"], "measured_at": d["measured_at"]})
    return out


def training_time(model_cfgs: dict, profile: str, *, batch_size: int = 128, batches: int = 20,
                  repeats: int = 3, jit_compile: bool = True, seed: int = 0,
                  epoch_images: int = 50_000) -> pd.DataFrame:
    """Seconds per training batch of each model in ``model_cfgs`` (name ->
    ``lib.training.models.build`` kwargs), cached; see ``measure_training_time``."""
    request = dict(models=model_cfgs, batch_size=batch_size, batches=batches, repeats=repeats,
                   jit_compile=jit_compile, seed=seed, epoch_images=epoch_images)
    return cached_measurement("training_time", request, profile,
                   lambda: measure_training_time(model_cfgs, batch_size, batches, repeats,
                                                 jit_compile, seed, epoch_images))


def inference_latency(model_cfgs: dict, profile: str, *, repeats: int = 200, warmup: int = 20,
                      jit_compile: bool = True, seed: int = 0) -> pd.DataFrame:
    """Seconds per batch-1 prediction of each model, cached; see
    ``measure_inference_latency``."""
    request = dict(models=model_cfgs, repeats=repeats, warmup=warmup, jit_compile=jit_compile,
                   seed=seed)
    return cached_measurement("inference_latency", request, profile,
                   lambda: measure_inference_latency(model_cfgs, repeats, warmup, jit_compile,
                                                     seed))


def _compiled_models(model_cfgs: dict, seed: int, compile_args) -> dict:
    """name -> model, seeded and compiled with ``compile_args()`` (a fresh
    optimizer each: an optimizer is built for one model's variables)."""
    import keras

    from ..training import models

    built = {}
    for name, cfg in model_cfgs.items():
        keras.utils.set_random_seed(seed)
        built[name] = models.build(**cfg)
        built[name].compile(**compile_args())
    return built


def _batches(x, y, batch_size: int):
    """In-memory batches as a PyDataset: Keras's adapter for plain arrays
    was measured to cap training at about 60 % of the model step here."""
    import keras

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return len(x) // batch_size

        def __getitem__(self, i):
            return x[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size]

    return Batches()


def measure_training_time(model_cfgs: dict, batch_size: int = 128, batches: int = 20,
                          repeats: int = 3, jit_compile: bool = True, seed: int = 0,
                          epoch_images: int = 50_000) -> pd.DataFrame:
    """Random data, Adam + cross-entropy. Each model is warmed up (compiled)
    first; then the models are timed in turn, ``repeats`` rounds, so slow
    drifts of the machine hit all of them alike. One row per (model, round)
    with seconds per batch and the implied seconds per epoch of
    ``epoch_images`` images."""
    import keras

    rng = np.random.default_rng(seed)
    x = rng.random((batch_size * batches, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
    built = _compiled_models(model_cfgs, seed, lambda: dict(
        optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy",
        jit_compile=jit_compile))
    data = _batches(x, y, batch_size)
    for m in built.values():
        m.fit(data, epochs=1, steps_per_epoch=2, verbose=0)  # warm-up: compile
    rows = []
    for r in range(repeats):
        for name, m in built.items():
            t0 = time.perf_counter()
            m.fit(data, epochs=1, verbose=0)
            dt = (time.perf_counter() - t0) / batches
            rows.append({"model": name, "round": r, "seconds_per_batch": dt,
                         "seconds_per_epoch": dt * epoch_images / batch_size,
                         "params": m.count_params()})
    return pd.DataFrame(rows)


def measure_inference_latency(model_cfgs: dict, repeats: int = 200, warmup: int = 20,
                              jit_compile: bool = True, seed: int = 0) -> pd.DataFrame:
    """Each model is compiled and called ``warmup`` times first; then the
    models take turns, one call each, ``repeats`` rounds, so that a slow spell
    of the machine hits all of them alike. Weights are random: latency does
    not depend on them. One row per (model, call)."""
    x = np.random.default_rng(seed).random((1, 32, 32, 3), dtype=np.float32)
    built = _compiled_models(model_cfgs, seed, lambda: dict(jit_compile=jit_compile))
    for m in built.values():
        for _ in range(warmup):
            m.predict_on_batch(x)
    rows = []
    for r in range(repeats):
        for name, m in built.items():
            t0 = time.perf_counter()
            m.predict_on_batch(x)
            rows.append({"model": name, "call": r, "seconds": time.perf_counter() - t0,
                         "params": m.count_params()})
    return pd.DataFrame(rows)


def latency_summary(latency: pd.DataFrame) -> pd.DataFrame:
    """Median and 10th/90th percentile of batch-1 latency per model, in ms."""
    g = latency.groupby("model", sort=False)
    ms = g["seconds"]
    return pd.DataFrame({
        "params": g["params"].first(),
        "latency_ms_median": ms.median() * 1e3,
        "latency_ms_p10": ms.quantile(0.1) * 1e3,
        "latency_ms_p90": ms.quantile(0.9) * 1e3,
        "calls": ms.size(),
    }).reset_index()
