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
