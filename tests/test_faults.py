"""A run survives ``kill -9`` anywhere: 20 kills of training processes at
random points (seeded), at each step of committing an epoch (checkpoint,
history, state, metrics) and at random moments mid-epoch; after each, the run
directory is consistent, and rerunning finishes every run with each epoch
exactly once.

The trials start a fresh Python process per life, so they run once, in the
JAX pass of ``make test`` (its processes start twice as fast as TensorFlow's);
the TensorFlow pass covers one kill in ``test_train.py``."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from lib.campaign import cache
from lib.store import runfiles

REPO = Path(__file__).resolve().parent.parent
KILLS = 20
EPOCHS = 3
#: where a process can be killed: each named step of train._commit / finish,
#: or "timed", a moment drawn at random once the run has started
POINTS = ("checkpoint-written", "checkpoint-renamed", "history-written", "state-written",
          "before-metrics", "metrics-written", "timed")

CHILD = """
import tests.no_tensorflow   # Keras would import it for its data adapters: 5 s a process
import json, sys
import numpy as np
from lib.campaign import cache
spec = json.loads(sys.argv[1])
z = np.load(sys.argv[2])
cache.ensure(spec, "smoke", data=tuple(z[f"arr_{i}"] for i in range(4)), jit_compile=True,
            log=lambda s: print(s, flush=True))
"""

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax",
                                reason="the kill trials run once, in the JAX pass")


def _life(spec, data_file, env, point, nth, rng) -> int:
    """One training process; returns its exit code (-9 when killed)."""
    if point != "timed":
        env = {**env, "ABLATION_FAILPOINT": f"{point}:{nth}"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec), str(data_file)],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if point == "timed":
        started = cache.run_dir(spec, "smoke") / "checkpoint"   # made when training starts
        deadline = time.time() + 120
        while not started.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 1.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, -signal.SIGKILL), err.decode()[-2000:]
    return proc.returncode


def _assert_consistent(d: Path, point: str, killed: bool):
    """What a kill may leave: epochs 1..k once each, a checkpoint that covers
    them, and a finished mark only if the kill came after it."""
    history = runfiles.read_history(d / "history.csv")        # raises if damaged
    saved = runfiles.read_state(d)                             # raises if damaged
    if cache.is_finished(d):
        assert not killed or point == "metrics-written"
        metrics, history = runfiles.read_finished(d)
        assert [r["epoch"] for r in history] == list(range(1, EPOCHS + 1))
    elif saved is not None:
        assert len(history) >= saved[0]["epochs_done"]


def test_twenty_kills_at_random_points_each_epoch_once(tiny_spec, tiny_data, tmp_path):
    rng = np.random.default_rng(20261125)
    data_file = tmp_path / "data.npz"
    np.savez(data_file, *tiny_data)
    # JAX's persistent compilation cache: only the first process compiles
    env = {**os.environ, "PYTHONPATH": str(REPO), "KERAS_BACKEND": "jax",
           "JAX_COMPILATION_CACHE_DIR": str(tmp_path / "jax-cache"),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
           "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1"}
    env.pop("ABLATION_FAILPOINT", None)
    kills, lives, finished_runs, by_point = 0, 0, [], {}
    seed = 0
    spec = {**tiny_spec, "epochs": EPOCHS, "seed": seed}
    t0 = time.time()
    while kills < KILLS:
        point = str(rng.choice(POINTS))
        nth = int(rng.integers(1, EPOCHS + 1)) if point not in ("before-metrics",
                                                                "metrics-written") else 1
        code = _life(spec, data_file, env, point, nth, rng)
        lives += 1
        killed = code == -signal.SIGKILL
        kills += killed
        if killed:
            by_point[point] = by_point.get(point, 0) + 1
        d = cache.run_dir(spec, "smoke")
        _assert_consistent(d, point, killed)
        if cache.is_finished(d):
            finished_runs.append(d)
            seed += 1
            spec = {**spec, "seed": seed}
    # the run the last kill left unfinished: finish it here
    cache.ensure(spec, "smoke", data=tiny_data, jit_compile=True, log=lambda s: None)
    finished_runs.append(cache.run_dir(spec, "smoke"))
    for d in finished_runs:
        metrics, history = runfiles.read_finished(d)
        assert metrics["epochs"] == EPOCHS
        assert [r["epoch"] for r in history] == list(range(1, EPOCHS + 1))
    print(f"\n{kills} kills ({by_point}) in {lives} processes over {len(finished_runs)} runs, "
          f"all finished with each epoch once, {time.time() - t0:.0f}s")
    assert len(by_point) >= 4          # the draws reached most kinds of point
