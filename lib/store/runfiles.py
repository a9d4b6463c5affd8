"""Files of a run directory, written atomically, and the environment a run
records. Nothing here imports Keras at module level, so loading cached runs
stays fast."""

from __future__ import annotations

import csv
import json
import os
import platform
import signal
import subprocess
from pathlib import Path

from .paths import REPO

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


class CorruptRunError(RuntimeError):
    """A file of a run directory cannot be what the trainer wrote: the run is
    neither loaded as a result nor resumed until it is recomputed."""

    def __init__(self, run_dir: Path, file: str, reason: str):
        self.run_dir, self.file, self.reason = Path(run_dir), file, reason
        profile = self.run_dir.parent.parent.name
        super().__init__(
            f"run {self.run_dir.name} ({profile}): {file} is corrupt: {reason}. Recompute it "
            f"with: python -m lib compute <notebook> --profile {profile} "
            f"--recompute {self.run_dir.name}")


def read_history(path: Path) -> list[dict]:
    """The rows of a ``history.csv`` (none if it does not exist). A missing
    or unparsable field, or epochs other than 1, 2, ... in order, raise
    ``CorruptRunError``."""
    if not path.exists():
        return []
    fail = lambda why: CorruptRunError(path.parent, path.name, why)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or not set(HISTORY_FIELDS) <= set(reader.fieldnames):
                raise fail(f"header {reader.fieldnames} lacks {HISTORY_FIELDS}")
            rows = []
            for i, row in enumerate(reader, 1):
                if None in row or None in row.values():
                    raise fail(f"row {i} has {len(row) - (None in row)} of "
                               f"{len(reader.fieldnames)} fields")
                rows.append({k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()})
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise fail(f"unreadable ({exc})") from None
    epochs = [r["epoch"] for r in rows]
    if epochs != list(range(1, len(rows) + 1)):
        raise fail(f"epochs {epochs} are not 1..{len(rows)}")
    return rows


def read_json(path: Path, required: tuple = (), run_dir: Path | None = None) -> dict:
    """A JSON file of the run in ``run_dir`` (default: the file's folder),
    which must be an object with the ``required`` keys; else ``CorruptRunError``."""
    run_dir = run_dir or path.parent
    name = str(path.relative_to(run_dir))
    try:
        obj = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptRunError(run_dir, name, f"not valid JSON ({exc})") from None
    missing = [k for k in required if not isinstance(obj, dict) or k not in obj]
    if missing:
        raise CorruptRunError(run_dir, name, f"lacks {missing}")
    return obj


#: what a finished run's metrics.json must hold
METRICS_KEYS = ("best_test_accuracy", "final_test_accuracy", "final_train_accuracy", "epochs",
                "train_images", "test_images", "train_seconds", "wall_seconds",
                "images_per_second")
STATE_KEYS = ("epochs_done", "file", "train_seconds", "wall_seconds")


def read_finished(run_dir: Path) -> tuple[dict, list[dict]]:
    """``(metrics, history)`` of a finished run, checked against each other."""
    metrics = read_json(run_dir / "metrics.json", METRICS_KEYS)
    history = read_history(run_dir / "history.csv")
    if len(history) != metrics["epochs"]:
        raise CorruptRunError(run_dir, "history.csv", f"{len(history)} epochs where "
                              f"metrics.json records {metrics['epochs']}")
    return metrics, history


def read_state(run_dir: Path) -> tuple[dict, list[dict]] | None:
    """``(state, history)`` to resume an unfinished run from, or None when it
    has no checkpoint yet. The state must name an existing checkpoint and the
    history must hold every epoch it counts (rows beyond it, written by an
    epoch whose state was never committed, are dropped)."""
    path = run_dir / "checkpoint" / "state.json"
    if not path.exists():
        return None
    state = read_json(path, STATE_KEYS, run_dir)
    if not (path.parent / state["file"]).exists():
        raise CorruptRunError(run_dir, "checkpoint/state.json",
                              f"names {state['file']}, which does not exist")
    history = read_history(run_dir / "history.csv")
    if len(history) < state["epochs_done"]:
        raise CorruptRunError(run_dir, "history.csv", f"{len(history)} epochs where the "
                              f"checkpoint records {state['epochs_done']}")
    return state, history[: state["epochs_done"]]


def write_history(path: Path, rows: list[dict]) -> None:
    fields = HISTORY_FIELDS + tuple(k for k in OPTIONAL_FIELDS if rows and k in rows[0])
    lines = [",".join(fields)]
    lines += [",".join(repr(r[k]) if isinstance(r[k], float) else str(r[k])
                       for k in fields) for r in rows]
    write_atomic(path, "\n".join(lines) + "\n")


_FAILPOINT_HITS: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Fault injection for the crash tests: with ``ABLATION_FAILPOINT=name:n``
    in the environment, the n-th time (default: first) this process passes
    ``failpoint(name)`` it kills itself with SIGKILL, as ``kill -9`` would."""
    want = os.environ.get("ABLATION_FAILPOINT")
    if not want:
        return
    point, _, nth = want.partition(":")
    if point == name:
        _FAILPOINT_HITS[name] = _FAILPOINT_HITS.get(name, 0) + 1
        if _FAILPOINT_HITS[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)


def git_commit() -> str | None:
    """The repository's commit (suffixed ``+dirty`` with uncommitted changes to
    tracked files); outside a git checkout (a copy sent to a GPU machine) the
    commit named by ``ABLATION_GIT_COMMIT``, else None."""
    if not (REPO / ".git").exists():
        return os.environ.get("ABLATION_GIT_COMMIT")
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True,
                                        timeout=10, check=True).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + ("+dirty" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _cpuinfo(path: Path) -> dict[str, str]:
    """The first processor's fields of a Linux ``/proc/cpuinfo`` ({} if none)."""
    try:
        text = path.read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor's name (Linux), else what ``platform`` knows."""
    return (_cpuinfo(cpuinfo).get("model name")
            or platform.processor() or platform.machine())


def cpu_id(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """Family, model and widest vector unit of the processor (Linux x86), e.g.
    "family 26 model 2 avx512": hosts that all call themselves "AMD EPYC" have
    trained the same spec from 150 to 1,400 images/s, and this tells them apart."""
    info = _cpuinfo(cpuinfo)
    if "cpu family" not in info:
        return None
    flags = info.get("flags", "").split()
    simd = next((f for f in ("avx512f", "avx2", "avx") if f in flags), "")
    return f"family {info['cpu family']} model {info.get('model', '?')} {simd.removesuffix('f')}".strip()


def host_text(record: dict) -> str:
    """"<cpu> <cpu_id>" of an environment, a run's metrics or a timing row
    (records from before ``cpu_id`` was kept give the name alone)."""
    return " ".join(filter(None, (record.get("cpu"), record.get("cpu_id"))))


def environment() -> dict:
    """Backend, versions, machine and commit, recorded in each run's metrics."""
    import keras
    import numpy as np

    backend = keras.backend.backend()
    versions = {"python": platform.python_version(), "keras": keras.__version__,
                "numpy": np.__version__}
    accelerator = None
    if backend == "tensorflow":
        import tensorflow as tf
        versions["tensorflow"] = tf.__version__
        gpus = tf.config.list_physical_devices("GPU")
        accelerator = gpus[0].name if gpus else None
    elif backend == "jax":
        import jax
        versions["jax"] = jax.__version__
        device = jax.devices()[0]
        accelerator = device.device_kind if device.platform != "cpu" else None
    return {"backend": backend, "versions": versions, "machine": platform.machine(),
            "accelerator": accelerator,
            "cpu": cpu_model(), "cpu_id": cpu_id(), "cpu_count": os.cpu_count(), "cifar10_source": Path(os.environ["CIFAR10_PATH"]).name
            if os.environ.get("CIFAR10_PATH") else "keras.datasets.cifar10",
            "git_commit": git_commit()}
