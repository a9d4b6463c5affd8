"""Files of a run directory, written atomically, and the environment a run
records. Nothing here imports Keras at module level, so loading cached runs
stays fast."""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HISTORY_FIELDS = ("epoch", "loss", "accuracy", "test_loss", "test_accuracy",
                  "lr", "train_seconds", "epoch_seconds")
#: written only by runs with a validation set
OPTIONAL_FIELDS = ("val_loss", "val_accuracy")


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_history(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()}
                for row in csv.DictReader(f)]


def write_history(path: Path, rows: list[dict]) -> None:
    fields = HISTORY_FIELDS + tuple(k for k in OPTIONAL_FIELDS if rows and k in rows[0])
    lines = [",".join(fields)]
    lines += [",".join(repr(r[k]) if isinstance(r[k], float) else str(r[k])
                       for k in fields) for r in rows]
    write_atomic(path, "\n".join(lines) + "\n")


def git_commit() -> str | None:
    """The repository's commit (suffixed ``+dirty`` with uncommitted changes to
    tracked files), or None outside a git checkout."""
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True,
                                        timeout=10, check=True).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + ("+dirty" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model() -> str:
    """The processor's name (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """Backend, versions, machine and commit, recorded in each run's metrics."""
    import keras
    import numpy as np

    backend = keras.backend.backend()
    versions = {"python": platform.python_version(), "keras": keras.__version__,
                "numpy": np.__version__}
    if backend == "tensorflow":
        import tensorflow as tf
        versions["tensorflow"] = tf.__version__
    elif backend == "jax":
        import jax
        versions["jax"] = jax.__version__
    return {"backend": backend, "versions": versions, "machine": platform.machine(),
            "cpu": cpu_model(), "cpu_count": os.cpu_count(), "cifar10_source": Path(os.environ["CIFAR10_PATH"]).name
            if os.environ.get("CIFAR10_PATH") else "keras.datasets.cifar10",
            "git_commit": git_commit()}
