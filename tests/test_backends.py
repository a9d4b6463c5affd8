"""The training path runs on TensorFlow and on JAX (the GPU machine has no
TensorFlow): the same spec, from the same seed, trains under each backend in
its own process; under JAX with TensorFlow made unimportable."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, sys, tempfile
if sys.argv[1] == "jax":
    sys.path.insert(0, "tests")
    import no_tensorflow  # noqa: F401
import numpy as np
import keras
from lib.store import runfiles
from lib.training import train

rng = np.random.default_rng(0)
def make(n):   # the class is written into the image, as in tests/conftest.py
    y = np.arange(n) % 10
    x = rng.integers(0, 60, (n, 32, 32, 3), dtype=np.uint8)
    for i, c in enumerate(y):
        x[i, 3 * c:3 * c + 2] = 250
    return x, y
data = (*make(160), *make(40))
spec = {"notebook": "test", "dataset": {"name": "cifar10"},
        "model": {"name": "cnn10", "width": 4, "bn_momentum": 0.5},
        "loss": {"name": "categorical_crossentropy"},
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "lr_schedule": {"name": "cosine"}, "mixing": {"name": "none"},
        "augment": {"standard_da": False, "keras_da": {"flip": True}},
        "batch_size": 8, "epochs": 4, "seed": 0}
with tempfile.TemporaryDirectory() as d:
    m = train.fit(spec, d + "/run", data=data, jit_compile=True, log=lambda s: None)
    hist = runfiles.read_history(__import__("pathlib").Path(d) / "run" / "history.csv")
print("RESULT " + json.dumps({"backend": keras.backend.backend(),
                              "tensorflow_loaded": "tensorflow" in sys.modules,
                              "losses": [h["loss"] for h in hist],
                              "final_train_accuracy": m["final_train_accuracy"]}))
"""


def _train_under(backend: str) -> dict:
    pytest.importorskip(backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", SCRIPT, backend], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
    assert out.returncode == 0 and line, out.stderr[-3000:]
    return json.loads(line[0][len("RESULT "):])


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
                    reason="starts both backends itself; the default-backend session runs it")
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_cnn10_learns_under_each_backend(backend):
    r = _train_under(backend)
    assert r["backend"] == backend
    if backend == "jax":
        assert not r["tensorflow_loaded"]          # nothing in the path needed it
    assert r["losses"][-1] < 0.7 * r["losses"][0], r["losses"]
    assert r["final_train_accuracy"] > 0.3, r     # chance is 0.1
