"""Importing lib keeps TensorFlow's known start-up lines out of stderr (and so
out of executed notebooks) without swallowing anything else."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# start-up lines as TensorFlow 2.21 writes them (the oneDNN one on AVX-512 hosts)
NOISE = [
    "I0000 00:00:1796139125.705188    2848 port.cc:153] oneDNN custom operations are on. You may "
    "see slightly different numerical results due to floating-point round-off errors from "
    "different computation orders. To turn them off, set the environment variable "
    "`TF_ENABLE_ONEDNN_OPTS=0`.",
    "W0000 00:00:1700000000.000000    11 cudart_stub.cc:29] Could not find cuda drivers on your "
    "machine, GPU will not be used.",
    "E0000 00:00:1700000000.000000    11 cuda_platform.cc:51] failed call to cuInit: UNKNOWN ERROR (303)",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
]


@pytest.mark.backend_free
def test_captured_stderr_drops_known_startup_lines_and_keeps_the_rest():
    script = (
        "import os, lib\n"
        "with lib._captured_stderr():\n"
        f"    for line in {NOISE + ['a real error']!r}:\n"
        "        os.write(2, (line + '\\n').encode())\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stderr == "a real error\n"


@pytest.mark.backend_free
def test_tensorflow_start_up_prints_nothing_after_import_lib():
    script = ("import lib, tensorflow as tf, keras\n"
              "keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])(tf.zeros((1, 4)))\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                         env={**env, "PYTHONPATH": str(REPO), "KERAS_BACKEND": "tensorflow"},
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr == ""
