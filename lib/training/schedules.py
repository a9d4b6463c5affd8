"""Learning-rate schedules behind one interface, for the trainer's
one-``fit``-per-epoch loop.

A spec's ``lr_schedule`` names one of:

- ``constant``: the optimizer's rate throughout;
- ``step``: ``factor`` once per milestone reached (the BC article's "x0.2 at
  100/150/200"), or, with ``multipliers``, the i-th multiplier of the base
  rate once the i-th milestone is reached (the Keras ResNet example).
  Milestones are epochs; a fractional one (a schedule compressed to a short
  run keeps its milestones at the same fractions of training) switches at
  the optimizer step where that fraction of an epoch is reached;
- ``cosine``: Keras's ``CosineDecay`` per optimizer step over the whole run;
- ``plateau``: Keras's ``ReduceLROnPlateau`` once per epoch.

Every schedule answers the same calls: ``optimizer_rate()`` (what the
optimizer is built with), ``start_epoch(epoch, model)`` (sets and returns the
epoch's starting rate), ``end_epoch(epoch, logs, model)`` and
``state()`` (what a checkpoint must keep so a resumed run changes the rate
at the same epochs as an uninterrupted one).
"""

from __future__ import annotations

# Keras is imported where a schedule is built, not at the top: reading a
# finished run's rates (``rate_lowered``) must not start a backend.

NAMES = ("constant", "step", "cosine", "plateau")
#: The ReduceLROnPlateau arguments a ``plateau`` schedule may set.
PLATEAU_KEYS = ("monitor", "factor", "patience", "min_lr", "min_delta", "cooldown")


def make(cfg: dict, base_lr: float, steps_per_epoch: int, epochs: int,
         state: dict | None = None) -> "Schedule":
    """The schedule for a spec's ``lr_schedule`` entry; ``state`` is what
    ``state()`` returned at the last checkpoint."""
    name = cfg.get("name", "constant")
    total_steps = steps_per_epoch * epochs
    if name == "step" and any(m != int(m) for m in cfg["milestones"]):
        return StepwiseSchedule(cfg, base_lr, steps_per_epoch)
    if name in ("constant", "step"):
        return EpochSchedule(cfg, base_lr)
    if name == "cosine":
        return CosineSchedule(cfg, base_lr, total_steps)
    if name == "plateau":
        return PlateauSchedule(cfg, base_lr, state)
    raise ValueError(f"unknown lr_schedule {name!r}; known: {NAMES}")


def rate_lowered(hist) -> "pd.Series":
    """Per seed of a run history (columns ``seed``, ``epoch``, ``lr``, the rate
    at each epoch's start): whether the rate fell below the first epoch's
    before the last epoch began. A plateau schedule that never fired trained
    at a constant rate, and a reader needs to know that."""
    by_seed = hist.sort_values("epoch").groupby("seed")["lr"]
    return by_seed.min() < by_seed.first()


def current_rate(optimizer) -> float:
    import keras

    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class Schedule:
    def __init__(self, cfg: dict, base_lr: float):
        self.cfg, self.base_lr = cfg, base_lr

    def optimizer_rate(self):
        return self.base_lr

    def start_epoch(self, epoch: int, model) -> float:
        return current_rate(model.optimizer)

    def end_epoch(self, epoch: int, logs: dict, model) -> None:
        pass

    def state(self) -> dict:
        return {}


class EpochSchedule(Schedule):
    """``constant`` and ``step``: the rate is a function of the epoch alone."""

    def rate(self, epoch: int) -> float:
        """Rate of the 0-based ``epoch``."""
        if self.cfg.get("name", "constant") == "constant":
            return self.base_lr
        passed = sum(epoch >= m for m in self.cfg["milestones"])
        if "multipliers" in self.cfg:
            return self.base_lr * (self.cfg["multipliers"][passed - 1] if passed else 1.0)
        return self.base_lr * self.cfg["factor"] ** passed

    def start_epoch(self, epoch: int, model) -> float:
        lr = self.rate(epoch)
        model.optimizer.learning_rate.assign(lr)
        return lr


class StepwiseSchedule(EpochSchedule):
    """``step`` with fractional milestones: Keras's PiecewiseConstantDecay per
    optimizer step, inside the optimizer (and so in its checkpoint)."""

    def __init__(self, cfg: dict, base_lr: float, steps_per_epoch: int):
        super().__init__(cfg, base_lr)
        self.steps_per_epoch = steps_per_epoch

    def optimizer_rate(self):
        # PiecewiseConstantDecay moves on *after* a boundary: the update with
        # iteration count round(m * steps_per_epoch) is the first at the new rate
        bounds = [round(m * self.steps_per_epoch) - 1 for m in self.cfg["milestones"]]
        # the rate after i milestones is rate(i-th milestone's epoch), by the same rule
        values = [self.rate(0)] + [self.rate(m) for m in self.cfg["milestones"]]
        import keras

        return keras.optimizers.schedules.PiecewiseConstantDecay(bounds, values)

    def start_epoch(self, epoch: int, model) -> float:
        return current_rate(model.optimizer)


class CosineSchedule(Schedule):
    """Per step, inside the optimizer (so its position is in the optimizer's
    checkpoint), from the base rate to ``alpha`` times it, without restarts."""

    def __init__(self, cfg: dict, base_lr: float, total_steps: int):
        super().__init__(cfg, base_lr)
        self.total_steps = total_steps

    def optimizer_rate(self):
        import keras

        return keras.optimizers.schedules.CosineDecay(
            self.base_lr, decay_steps=self.total_steps, alpha=self.cfg.get("alpha", 0.0))


class PlateauSchedule(Schedule):
    """Keras's ReduceLROnPlateau, driven by hand once per epoch: a callback
    passed to each one-epoch ``fit`` would be reset by ``on_train_begin``."""

    def __init__(self, cfg: dict, base_lr: float, state: dict | None = None):
        super().__init__(cfg, base_lr)
        import keras

        self.callback = keras.callbacks.ReduceLROnPlateau(
            **{k: cfg[k] for k in PLATEAU_KEYS if k in cfg})
        for k, v in (state or {}).items():
            setattr(self.callback, k, v)

    def end_epoch(self, epoch: int, logs: dict, model) -> None:
        """May lower the optimizer's rate for the next epoch."""
        self.callback.set_model(model)
        self.callback.on_epoch_end(epoch, dict(logs))

    def state(self) -> dict:
        cb = self.callback
        return {"best": None if cb.best is None else float(cb.best),
                "wait": int(cb.wait), "cooldown_counter": int(cb.cooldown_counter)}

