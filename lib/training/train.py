"""Train one run spec into a run directory, resumably.

Layout of a run directory (``docs/design.md`` has the whole data flow):

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

import math
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import keras

from . import augment, data as data_lib, models, schedules
from .augment import one_hot
from .losses import LOSSES   # importing registers them, so checkpoints using them reload
from .pipeline import MixingBatches, normalize
from ..store.runfiles import environment, failpoint, read_state, write_history, write_json
from .spec import setting


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss."""


# ---------------------------------------------------------------- spec -> objects
def make_optimizer(cfg: dict, learning_rate=None) -> keras.optimizers.Optimizer:
    """``learning_rate`` (a float or a Keras schedule) overrides ``cfg``'s."""
    name = cfg["name"]
    lr = cfg["learning_rate"] if learning_rate is None else learning_rate
    opt = {"optimizer": cfg}
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr, amsgrad=setting(opt, "optimizer.amsgrad"))
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=setting(opt, "optimizer.momentum"),
                                    nesterov=setting(opt, "optimizer.nesterov"))
    raise ValueError(f"unknown optimizer {name!r}")


def make_loss(cfg: dict) -> keras.losses.Loss:
    name = cfg["name"]
    if name == "kl_divergence":
        return keras.losses.KLDivergence()
    if name == "categorical_crossentropy":
        return keras.losses.CategoricalCrossentropy(
            label_smoothing=setting({"loss": cfg}, "loss.label_smoothing"))
    if name in LOSSES:
        return LOSSES[name]
    raise ValueError(f"unknown loss {name!r}; known: kl_divergence, categorical_crossentropy, "
                     f"{', '.join(LOSSES)}")


def make_batches(spec: dict, x, y, *, workers: int = 2) -> MixingBatches:
    """The training pipeline a spec describes."""
    return MixingBatches(
        x, y, batch_size=spec["batch_size"], step_size=setting(spec, "mixing.step_size"),
        mixing=spec["mixing"]["name"], standard_da=spec["augment"]["standard_da"],
        max_shift=setting(spec, "augment.max_shift"), alpha=setting(spec, "mixing.alpha"),
        normalization=setting(spec, "input"), seed=spec["seed"],
        target_smoothing=setting(spec, "target_smoothing"),
        shift_after_mixing=setting(spec, "augment.shift_after_mixing"),
        workers=workers, use_multiprocessing=False, max_queue_size=8)


def build_model(spec: dict) -> keras.Model:
    """The spec's network, seeded; Keras DA layers (if any) in front of it, so
    they run after mixing and only in training."""
    keras.utils.set_random_seed(spec["seed"])
    model = models.build(**spec["model"])
    keras_da = setting(spec, "augment.keras_da")
    if keras_da:
        inputs = keras.Input(model.input_shape[1:])
        model = keras.Model(inputs, model(augment.keras_augmentation(**keras_da)(inputs)),
                            name=model.name)
    return model


# ---------------------------------------------------------------- the loop
def fit(spec: dict, run_dir: str | os.PathLike, *, data=None, jit_compile: bool | str = True,
        workers: int = 2, log=print, after_epoch=None) -> dict:
    """Train ``spec`` in ``run_dir`` (resuming if a checkpoint is there) and
    return its metrics. ``data`` overrides the spec's dataset (tests): train
    and test arrays, optionally followed by validation arrays;
    ``after_epoch(epoch)`` is called after each epoch is committed.
    The spec's ``precision`` is the Keras dtype policy it computes in
    (``mixed_bfloat16``: bfloat16 with float32 weights, for GPUs)."""
    policy = setting(spec, "precision")
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(policy)
    try:
        run = _Run(spec, Path(run_dir), log)
        run.environment = environment()   # the code and machine that train (this part of) it
        run.prepare(data, workers)
        run.build_or_resume(jit_compile)
        for epoch in range(run.state["epochs_done"], spec["epochs"]):
            run.one_epoch(epoch)
            if after_epoch is not None:
                after_epoch(epoch + 1)
        return run.finish(policy)
    finally:
        keras.config.set_dtype_policy(previous)


@dataclass
class _Split:
    x: np.ndarray
    y: np.ndarray   # one-hot


class _Run:
    """One run's state between the steps of ``fit``."""

    def __init__(self, spec: dict, run_dir: Path, log):
        self.spec, self.dir, self.log, self.tag = spec, run_dir, log, run_dir.name
        self.ckpt_dir = run_dir / "checkpoint"

    # ------------------------------------------------------------ data
    def prepare(self, data, workers: int) -> None:
        spec = self.spec
        if data is not None:
            xtr, ytr, xte, yte = data[:4]
            val = data[4:6] or None
        else:
            xtr, ytr, xte, yte = data_lib.load_data(spec["dataset"])
            val = data_lib.load_validation(spec["dataset"])
        schedule = spec["lr_schedule"]
        monitor = schedule.get("monitor", "val_loss")
        if schedule["name"] == "plateau" and monitor.startswith("val_") and val is None:
            raise ValueError(f"[{self.tag}] a plateau schedule on {monitor!r} needs a "
                             "validation set: set dataset.val_subset")
        self.batches = make_batches(spec, xtr, ytr, workers=workers)
        # held-out sets get the training pipeline's normalization (incl. its pixel mean)
        held_out = lambda x, y: _Split(normalize(x, self.batches.norm, self.batches.pixel_mean),
                                       one_hot(y))
        self.test = held_out(xte, yte)
        self.val = held_out(*val) if val is not None else None
        self.images_per_epoch = len(self.batches) * spec["batch_size"]

    # ------------------------------------------------------------ model
    def build_or_resume(self, jit_compile) -> None:
        spec = self.spec
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        write_json(self.dir / "spec.json", spec)
        saved = read_state(self.dir)   # checked: a corrupt file stops here, named
        resumed = saved is not None
        base_lr = spec["optimizer"]["learning_rate"]
        if resumed:
            state, self.history = saved
            self.model = keras.saving.load_model(self.ckpt_dir / state["file"])
            self.log(f"[{self.tag}] resuming after epoch {state['epochs_done']}/{spec['epochs']}")
        else:
            state = {"epochs_done": 0, "train_seconds": 0.0, "wall_seconds": 0.0}
            self.model = build_model(spec)
            self.history = []
        self.schedule = schedules.make(spec["lr_schedule"], base_lr, len(self.batches),
                                       spec["epochs"], state.get("schedule"))
        with warnings.catch_warnings():
            # Keras turns XLA off itself for models with layers it cannot compile
            # (TensorFlow's image transforms); metrics.json records what ran
            warnings.filterwarnings("ignore", message="Model doesn't support `jit_compile=True`")
            if not resumed:   # a checkpoint holds the compiled optimizer and its state
                self.model.compile(optimizer=make_optimizer(spec["optimizer"],
                                                            self.schedule.optimizer_rate()),
                                   loss=make_loss(spec["loss"]),
                                   metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                                   jit_compile=jit_compile)
            self.model.jit_compile = jit_compile   # a runtime choice (speed), not in the spec
        self.state = state

    # ------------------------------------------------------------ one epoch
    def one_epoch(self, epoch: int) -> None:
        t0 = time.perf_counter()
        lr = self.schedule.start_epoch(epoch, self.model)
        self.batches.set_epoch(epoch)
        h = self.model.fit(self.batches, epochs=1, verbose=0,
                           callbacks=[keras.callbacks.TerminateOnNaN()]).history
        t_train = time.perf_counter() - t0
        loss = h["loss"][-1] if h.get("loss") else float("nan")
        if not math.isfinite(loss):
            raise NonFiniteLossError(
                f"[{self.tag}] loss became {loss} in epoch {epoch + 1}; the run is left "
                f"unfinished (last good checkpoint: epoch {self.state['epochs_done']}). "
                "Lower the learning rate or check the inputs.")
        row = {"epoch": epoch + 1, "loss": float(loss), "accuracy": float(h["accuracy"][-1])}
        row.update(self._evaluate("test", self.test))
        if self.val is not None:
            row.update(self._evaluate("val", self.val))
        self.schedule.end_epoch(epoch, row, self.model)   # may lower the next epoch's rate
        t_epoch = time.perf_counter() - t0
        self.history.append({**row, "lr": float(lr), "train_seconds": t_train,
                             "epoch_seconds": t_epoch})
        self.state = {"epochs_done": epoch + 1, "file": f"epoch-{epoch + 1}.keras",
                      "train_seconds": self.state["train_seconds"] + t_train,
                      "wall_seconds": self.state["wall_seconds"] + t_epoch,
                      "schedule": self.schedule.state()}
        self._commit()
        self.log(f"[{self.tag}] epoch {epoch + 1}/{self.spec['epochs']}  loss {loss:.4f}  "
                 f"acc {row['accuracy']:.4f}  test_acc {row['test_accuracy']:.4f}  lr {lr:.2e}  "
                 f"{t_epoch:.1f}s ({self.images_per_epoch / t_train:.0f} img/s)")

    def _evaluate(self, name: str, split: _Split) -> dict:
        ev = self.model.evaluate(split.x, split.y, batch_size=1000, verbose=0, return_dict=True)
        return {f"{name}_loss": float(ev["loss"]), f"{name}_accuracy": float(ev["accuracy"])}

    def _commit(self) -> None:
        """Checkpoint, then history, then the state file that points at both: a
        kill between any two steps leaves the previous epoch's state valid."""
        tmp = self.ckpt_dir / f"tmp-{os.getpid()}.keras"
        self.model.save(tmp)
        failpoint("checkpoint-written")
        os.replace(tmp, self.ckpt_dir / self.state["file"])
        failpoint("checkpoint-renamed")
        write_history(self.dir / "history.csv", self.history)
        failpoint("history-written")
        write_json(self.ckpt_dir / "state.json", self.state)
        failpoint("state-written")
        for old in self.ckpt_dir.glob("*.keras"):   # earlier epochs', a killed save's tmp
            if old.name != self.state["file"]:
                old.unlink()

    # ------------------------------------------------------------ the end
    def finish(self, policy: str) -> dict:
        history, state = self.history, self.state
        test_acc = [r["test_accuracy"] for r in history]
        best = int(np.argmax(test_acc))
        train_images = self.images_per_epoch * len(history)
        metrics = {
            "best_test_accuracy": test_acc[best], "best_epoch": best + 1,
            "final_test_accuracy": test_acc[-1], "final_train_accuracy": history[-1]["accuracy"],
            "epochs": len(history), "train_images": train_images,
            "test_images": int(len(self.test.x)), "params": int(self.model.count_params()),
            "train_seconds": state["train_seconds"], "wall_seconds": state["wall_seconds"],
            # training images per second of training time (evaluation excluded)
            "images_per_second": train_images / max(state["train_seconds"], 1e-9),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "dtype_policy": policy,
            "xla": bool(self.model.jit_compile),
            **self.environment,
        }
        failpoint("before-metrics")
        write_json(self.dir / "metrics.json", metrics)   # last: marks the run finished
        failpoint("metrics-written")
        shutil.rmtree(self.ckpt_dir, ignore_errors=True)
        return metrics
