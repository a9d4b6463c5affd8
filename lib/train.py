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
LR_SCHEDULES = ("constant", "step", "cosine", "plateau")
#: The ReduceLROnPlateau arguments a ``plateau`` schedule may set.
PLATEAU_KEYS = ("monitor", "factor", "patience", "min_lr", "min_delta", "cooldown")


def lr_at(schedule: dict, base_lr: float, epoch: int) -> float:
    """Learning rate for a 0-based ``epoch``. ``step`` multiplies by ``factor``
    once per milestone reached (the BC article's "x0.2 at 100/150/200"), or,
    with ``multipliers``, uses the i-th multiplier of the base rate once the
    i-th milestone is reached (the Keras ResNet example's schedule). The
    ``cosine`` and ``plateau`` schedules live in the optimizer (see ``fit``)."""
    name = schedule.get("name", "constant")
    if name == "constant":
        return base_lr
    if name == "step":
        passed = sum(epoch >= m for m in schedule["milestones"])
        if "multipliers" in schedule:
            return base_lr * (schedule["multipliers"][passed - 1] if passed else 1.0)
        return base_lr * schedule["factor"] ** passed
    raise ValueError(f"unknown lr_schedule {name!r}; known: {LR_SCHEDULES}")



def cosine_schedule(schedule: dict, base_lr: float, total_steps: int):
    """Keras's CosineDecay from ``base_lr`` down to ``alpha * base_lr`` over
    ``total_steps`` optimizer steps (the whole run), without restarts."""
    return keras.optimizers.schedules.CosineDecay(
        base_lr, decay_steps=total_steps, alpha=schedule.get("alpha", 0.0))


def make_plateau(schedule: dict, model, state: dict | None = None):
    """Keras's ReduceLROnPlateau, driven by hand once per epoch (our one-fit-
    per-epoch loop would reset it at every ``on_train_begin``). Its counters
    are restored from ``state`` so that a resumed run reduces the rate at the
    same epochs as an uninterrupted one."""
    cb = keras.callbacks.ReduceLROnPlateau(
        **{k: schedule[k] for k in PLATEAU_KEYS if k in schedule})
    cb.set_model(model)
    for k, v in (state or {}).items():
        setattr(cb, k, v)
    return cb


def plateau_state(cb) -> dict:
    return {"best": None if cb.best is None else float(cb.best),
            "wait": int(cb.wait), "cooldown_counter": int(cb.cooldown_counter)}


def make_optimizer(cfg: dict, learning_rate=None) -> keras.optimizers.Optimizer:
    """``learning_rate`` (a float or a Keras schedule) overrides ``cfg``'s."""
    name = cfg["name"]
    lr = cfg["learning_rate"] if learning_rate is None else learning_rate
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr, amsgrad=cfg.get("amsgrad", False))
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr,
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


def _load_split(ds: dict) -> dict:
    key = json.dumps(ds, sort_keys=True)
    if key not in _DATA_MEMO:
        if ds.get("name", "cifar10") != "cifar10":
            raise ValueError(f"unknown dataset {ds['name']!r}")
        xtr, ytr, xte, yte = data_lib.load_cifar10()
        seed = ds.get("subset_seed", 0)
        split = {}
        if ds.get("val_subset"):   # held out first, so the training subset never overlaps it
            xtr, ytr, xv, yv = data_lib.split_validation(xtr, ytr, ds["val_subset"], seed + 2)
            split["val"] = (xv, yv)
        split["train"] = data_lib.stratified_subset(xtr, ytr, ds.get("train_subset"), seed)
        split["test"] = data_lib.stratified_subset(xte, yte, ds.get("test_subset"), seed + 1)
        _DATA_MEMO[key] = split
    return _DATA_MEMO[key]


def load_data(ds: dict):
    """Train/test arrays for a spec's ``dataset`` entry (memoized per process).
    With ``val_subset``, the validation images are excluded from training."""
    split = _load_split(ds)
    return (*split["train"], *split["test"])


def load_validation(ds: dict):
    """``(x_val, y_val)`` held out of the training set, or None without ``val_subset``
    (then nothing is loaded)."""
    return _load_split(ds)["val"] if ds.get("val_subset") else None


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
        workers: int = 2, mixed_precision: bool = False, log=print, after_epoch=None) -> dict:
    """Train ``spec`` in ``run_dir`` (resuming if a checkpoint is there) and
    return its metrics. ``data`` overrides the spec's dataset (tests): train
    and test arrays, optionally followed by validation arrays;
    ``after_epoch(epoch)`` is called after each epoch is committed.
    ``mixed_precision`` computes in bfloat16 with float32 weights (for GPUs;
    off by default, and recorded in metrics.json, because it is a runtime
    choice that can move results by run-to-run noise)."""
    policy = "mixed_bfloat16" if mixed_precision else "float32"
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(policy)
    try:
        return _fit(spec, Path(run_dir), data, jit_compile, workers, policy, log, after_epoch)
    finally:
        keras.config.set_dtype_policy(previous)


def _fit(spec, run_dir, data, jit_compile, workers, policy, log, after_epoch) -> dict:
    ckpt_dir = run_dir / "checkpoint"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "spec.json", spec)
    tag = run_dir.name

    if data is not None:
        xtr, ytr, xte, yte = data[:4]
        val = data[4:6] or None
    else:
        xtr, ytr, xte, yte = load_data(spec["dataset"])
        val = load_validation(spec["dataset"])
    schedule = spec.get("lr_schedule", {})
    if schedule.get("name") == "plateau" and schedule.get("monitor", "val_loss").startswith("val_") \
            and val is None:
        raise ValueError(f"[{tag}] a plateau schedule on {schedule.get('monitor', 'val_loss')!r} "
                         "needs a validation set: set dataset.val_subset")
    mixing = spec["mixing"]
    batches = MixingBatches(
        xtr, ytr, batch_size=spec["batch_size"], step_size=mixing.get("step_size"),
        mixing=mixing["name"], standard_da=spec["augment"]["standard_da"],
        max_shift=spec["augment"].get("max_shift", 4), alpha=mixing.get("alpha", 0.2),
        normalization=spec.get("input"), seed=spec["seed"],
        target_smoothing=spec.get("target_smoothing", 0.0),
        workers=workers, use_multiprocessing=False, max_queue_size=8)
    # the test set gets the training pipeline's normalization (incl. its pixel mean)
    x_test, y_test = normalize(xte, batches.norm, batches.pixel_mean), one_hot(yte)
    if val is not None:
        x_val, y_val = normalize(val[0], batches.norm, batches.pixel_mean), one_hot(val[1])
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
        lr = None
        if schedule.get("name") == "cosine":   # per step, inside the optimizer (and its checkpoint)
            lr = cosine_schedule(schedule, spec["optimizer"]["learning_rate"],
                                 spec["epochs"] * len(batches))
        model.compile(optimizer=make_optimizer(spec["optimizer"], lr),
                      loss=make_loss(spec["loss"]),
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                      jit_compile=jit_compile)
        history, start = [], 0
        state = {"epochs_done": 0, "train_seconds": 0.0, "wall_seconds": 0.0}
    model.jit_compile = jit_compile   # a runtime choice (speed), not part of the spec

    base_lr = spec["optimizer"]["learning_rate"]
    plateau = (make_plateau(schedule, model, state.get("plateau"))
               if schedule.get("name") == "plateau" else None)
    for epoch in range(start, spec["epochs"]):
        t0 = time.perf_counter()
        if schedule.get("name") in ("cosine", "plateau"):   # the optimizer owns the rate
            lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        else:
            lr = lr_at(schedule, base_lr, epoch)
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
        row = {"epoch": epoch + 1, "loss": float(loss), "accuracy": float(h["accuracy"][-1]),
               "test_loss": float(ev["loss"]), "test_accuracy": float(ev["accuracy"])}
        if val is not None:
            ev = model.evaluate(x_val, y_val, batch_size=1000, verbose=0, return_dict=True)
            row.update(val_loss=float(ev["loss"]), val_accuracy=float(ev["accuracy"]))
        if plateau is not None:   # may lower the rate for the next epoch
            plateau.on_epoch_end(epoch, dict(row))
        t_epoch = time.perf_counter() - t0
        history.append({**row, "lr": float(lr), "train_seconds": t_train, "epoch_seconds": t_epoch})
        state = {"epochs_done": epoch + 1, "file": f"epoch-{epoch + 1}.keras",
                 "train_seconds": state["train_seconds"] + t_train,
                 "wall_seconds": state["wall_seconds"] + t_epoch}
        if plateau is not None:
            state["plateau"] = plateau_state(plateau)
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
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "dtype_policy": policy,
        **environment(),
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
