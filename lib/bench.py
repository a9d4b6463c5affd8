"""Timing helpers: training-step time of models measured back to back in one
process, so that differences are not machine-to-machine noise."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd


def time_training(model_cfgs: dict, batch_size: int = 128, batches: int = 20, repeats: int = 3,
                  jit_compile: bool = True, seed: int = 0, epoch_images: int = 50_000) -> pd.DataFrame:
    """Seconds per training batch of each model in ``model_cfgs`` (name ->
    ``lib.models.build`` kwargs), on random data, Adam + cross-entropy. Each
    model is warmed up (compiled) first; then the models are timed in turn,
    ``repeats`` rounds, so slow drifts of the machine hit all of them alike.
    Returns one row per (model, round) with seconds per batch and the implied
    seconds per epoch of ``epoch_images`` images."""
    import keras

    from . import models

    rng = np.random.default_rng(seed)
    x = rng.random((batch_size * batches, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
    built = {}
    for name, cfg in model_cfgs.items():
        keras.utils.set_random_seed(seed)
        m = models.build(**cfg)
        m.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy", jit_compile=jit_compile)
        m.fit(x[:2 * batch_size], y[:2 * batch_size], batch_size=batch_size, verbose=0)  # warm-up
        built[name] = m
    rows = []
    for r in range(repeats):
        for name, m in built.items():
            t0 = time.perf_counter()
            m.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
            dt = (time.perf_counter() - t0) / batches
            rows.append({"model": name, "round": r, "seconds_per_batch": dt,
                         "seconds_per_epoch": dt * epoch_images / batch_size,
                         "params": m.count_params()})
    return pd.DataFrame(rows)


def inference_latency(model_cfgs: dict, repeats: int = 200, warmup: int = 20,
                      jit_compile: bool = True, seed: int = 0) -> pd.DataFrame:
    """Seconds per batch-1 prediction of each model in ``model_cfgs`` (name ->
    ``lib.models.build`` kwargs): one row per (model, call). Each model is
    compiled and called ``warmup`` times first; then the models take turns,
    one call each, ``repeats`` rounds, so that a slow spell of the machine
    hits all of them alike. Weights are random: latency does not depend on
    them."""
    import keras

    from . import models

    x = np.random.default_rng(seed).random((1, 32, 32, 3), dtype=np.float32)
    built = {}
    for name, cfg in model_cfgs.items():
        keras.utils.set_random_seed(seed)
        m = models.build(**cfg)
        m.compile(jit_compile=jit_compile)
        for _ in range(warmup):
            m.predict_on_batch(x)
        built[name] = m
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
