"""Train one run spec into a run directory, resumably.

Layout of a run directory (see DESIGN.md):

    spec.json      the spec, written first
    history.csv    one row per completed epoch, rewritten atomically
    checkpoint/    model + optimizer after the last completed epoch and
                   state.json naming it (never committed)
    metrics.json   written last; its presence marks the run finished

The loop runs one ``model.fit`` call per epoch so that the learning-rate
schedule, checkpointing and the data order are all functions of the epoch
number: a run killed at any point resumes from its last checkpoint and
produces each epoch exactly once.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import keras

from . import data as data_lib
from . import models
from . import augment
from .augment import one_hot
from .losses import LOSSES   # importing registers them, so checkpoints using them reload
from .pipeline import MixingBatches, normalize
from .runfiles import read_history, write_history, write_json

class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss."""


# ---------------------------------------------------------------- spec -> objects
def lr_at(schedule: dict, base_lr: float, epoch: int) -> float:
    """Learning rate for a 0-based ``epoch``. ``step`` multiplies by ``factor``
    once per milestone reached (the BC article's "x0.2 at 100/150/200"), or,
    with ``multipliers``, uses the i-th multiplier of the base rate once the
    i-th milestone is reached (the Keras ResNet example's schedule)."""
    name = schedule.get("name", "constant")
    if name == "constant":
        return base_lr
    if name == "step":
        passed = sum(epoch >= m for m in schedule["milestones"])
        if "multipliers" in schedule:
            return base_lr * (schedule["multipliers"][passed - 1] if passed else 1.0)
        return base_lr * schedule["factor"] ** passed
    raise ValueError(f"unknown lr_schedule {name!r}")


def make_optimizer(cfg: dict) -> keras.optimizers.Optimizer:
    name = cfg["name"]
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=cfg["learning_rate"],
                                     amsgrad=cfg.get("amsgrad", False))
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=cfg["learning_rate"],
                                    momentum=cfg.get("momentum", 0.0),
                                    nesterov=cfg.get("nesterov", False))
    raise ValueError(f"unknown optimizer {name!r}")


def make_loss(cfg: dict) -> keras.losses.Loss:
    name = cfg["name"]
    if name == "kl_divergence":
        return keras.losses.KLDivergence()
    if name == "categorical_crossentropy":
        return keras.losses.CategoricalCrossentropy(label_smoothing=cfg.get("label_smoothing", 0.0))
    if name in LOSSES:
        return LOSSES[name]
    raise ValueError(f"unknown loss {name!r}; known: kl_divergence, categorical_crossentropy, "
                     f"{', '.join(LOSSES)}")


_DATA_MEMO: dict = {}


def load_data(ds: dict):
    """Train/test arrays for a spec's ``dataset`` entry (memoized per process)."""
    key = json.dumps(ds, sort_keys=True)
    if key not in _DATA_MEMO:
        if ds.get("name", "cifar10") != "cifar10":
            raise ValueError(f"unknown dataset {ds['name']!r}")
        xtr, ytr, xte, yte = data_lib.load_cifar10()
        seed = ds.get("subset_seed", 0)
        xtr, ytr = data_lib.stratified_subset(xtr, ytr, ds.get("train_subset"), seed)
        xte, yte = data_lib.stratified_subset(xte, yte, ds.get("test_subset"), seed + 1)
        _DATA_MEMO[key] = (xtr, ytr, xte, yte)
    return _DATA_MEMO[key]


def environment() -> dict:
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
            "cpu_count": os.cpu_count(), "cifar10_path": os.environ.get("CIFAR10_PATH")}


# ---------------------------------------------------------------- the loop
def fit(spec: dict, run_dir: str | os.PathLike, *, data=None, jit_compile: bool | str = True,
        workers: int = 2, log=print, after_epoch=None) -> dict:
    """Train ``spec`` in ``run_dir`` (resuming if a checkpoint is there) and
    return its metrics. ``data`` overrides the spec's dataset (tests);
    ``after_epoch(epoch)`` is called after each epoch is committed."""
    run_dir = Path(run_dir)
    ckpt_dir = run_dir / "checkpoint"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "spec.json", spec)
    tag = run_dir.name

    xtr, ytr, xte, yte = data if data is not None else load_data(spec["dataset"])
    mixing = spec["mixing"]
    batches = MixingBatches(
        xtr, ytr, batch_size=spec["batch_size"], step_size=mixing.get("step_size"),
        mixing=mixing["name"], standard_da=spec["augment"]["standard_da"],
        max_shift=spec["augment"].get("max_shift", 4), alpha=mixing.get("alpha", 0.2),
        normalization=spec.get("input"), seed=spec["seed"],
        workers=workers, use_multiprocessing=False, max_queue_size=8)
    # the test set gets the training pipeline's normalization (incl. its pixel mean)
    x_test, y_test = normalize(xte, batches.norm, batches.pixel_mean), one_hot(yte)
    images_per_epoch = len(batches) * spec["batch_size"]

    state_path = ckpt_dir / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else None
    if state:
        model = keras.saving.load_model(ckpt_dir / state["file"])
        history = read_history(run_dir / "history.csv")[: state["epochs_done"]]
        start = state["epochs_done"]
        log(f"[{tag}] resuming after epoch {start}/{spec['epochs']}")
    else:
        keras.utils.set_random_seed(spec["seed"])
        model = models.build(**spec["model"])
        if spec["augment"].get("keras_da"):
            # geometric DA as layers in front of the net: after mixing, only in training
            inputs = keras.Input(model.input_shape[1:])
            model = keras.Model(inputs, model(augment.keras_augmentation(
                **spec["augment"]["keras_da"])(inputs)), name=model.name)
        model.compile(optimizer=make_optimizer(spec["optimizer"]),
                      loss=make_loss(spec["loss"]),
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                      jit_compile=jit_compile)
        history, start = [], 0
        state = {"epochs_done": 0, "train_seconds": 0.0, "wall_seconds": 0.0}
    model.jit_compile = jit_compile   # a runtime choice (speed), not part of the spec

    base_lr = spec["optimizer"]["learning_rate"]
    for epoch in range(start, spec["epochs"]):
        t0 = time.perf_counter()
        lr = lr_at(spec.get("lr_schedule", {}), base_lr, epoch)
        model.optimizer.learning_rate.assign(lr)
        batches.set_epoch(epoch)
        h = model.fit(batches, epochs=1, verbose=0,
                      callbacks=[keras.callbacks.TerminateOnNaN()]).history
        t_train = time.perf_counter() - t0
        loss = h["loss"][-1] if h.get("loss") else float("nan")
        if not math.isfinite(loss):
            raise NonFiniteLossError(
                f"[{tag}] loss became {loss} in epoch {epoch + 1}; the run is left unfinished "
                f"(last good checkpoint: epoch {state['epochs_done']}). Lower the learning "
                "rate or check the inputs.")
        ev = model.evaluate(x_test, y_test, batch_size=1000, verbose=0, return_dict=True)
        t_epoch = time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "loss": float(loss),
                        "accuracy": float(h["accuracy"][-1]),
                        "test_loss": float(ev["loss"]), "test_accuracy": float(ev["accuracy"]),
                        "lr": float(lr), "train_seconds": t_train, "epoch_seconds": t_epoch})
        state = {"epochs_done": epoch + 1, "file": f"epoch-{epoch + 1}.keras",
                 "train_seconds": state["train_seconds"] + t_train,
                 "wall_seconds": state["wall_seconds"] + t_epoch}
        _commit_epoch(run_dir, model, history, state)
        log(f"[{tag}] epoch {epoch + 1}/{spec['epochs']}  loss {loss:.4f}  "
            f"acc {history[-1]['accuracy']:.4f}  test_acc {ev['accuracy']:.4f}  lr {lr:.2e}  "
            f"{t_epoch:.1f}s ({images_per_epoch / t_train:.0f} img/s)")
        if after_epoch is not None:
            after_epoch(epoch + 1)

    test_acc = [r["test_accuracy"] for r in history]
    best = int(np.argmax(test_acc))
    metrics = {
        "best_test_accuracy": test_acc[best], "best_epoch": best + 1,
        "final_test_accuracy": test_acc[-1], "final_train_accuracy": history[-1]["accuracy"],
        "epochs": len(history), "train_images": images_per_epoch * len(history),
        "test_images": int(len(x_test)), "params": int(model.count_params()),
        "train_seconds": state["train_seconds"], "wall_seconds": state["wall_seconds"],
        "images_per_second": images_per_epoch * len(history) / max(state["train_seconds"], 1e-9),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **environment(),
    }
    write_json(run_dir / "metrics.json", metrics)   # last: marks the run finished
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    return metrics


def _commit_epoch(run_dir: Path, model, history, state) -> None:
    """Checkpoint, then history, then the state file that points at both: a
    kill between any two steps leaves the previous epoch's state valid."""
    ckpt_dir = run_dir / "checkpoint"
    tmp = ckpt_dir / f"tmp-{os.getpid()}.keras"
    model.save(tmp)
    os.replace(tmp, ckpt_dir / state["file"])
    write_history(run_dir / "history.csv", history)
    write_json(ckpt_dir / "state.json", state)
    for old in ckpt_dir.glob("epoch-*.keras"):
        if old.name != state["file"]:
            old.unlink()


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m lib.runs compute <notebook> --profile <profile>")
