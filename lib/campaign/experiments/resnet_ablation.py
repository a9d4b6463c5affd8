"""ResNet techniques added one at a time to a 10-conv-layer CNN
(the article: docs/articles.md#resnet_ablation).

Step k keeps everything of step k-1: 0 base, 1 +DA, 2 +BN, 3 +residual,
4 +GAP, 5 +dropout, 6 +mixup, 7 +AMSGrad. Model changes live in
``lib.training.models.resnet_ablation``; this module adds the training changes.
"""

from __future__ import annotations

from ...training.vocabulary import RESNET_ABLATION_STEPS
from ..params import (ParamError, at_budget, check_known, check_positive, check_seeds,
                      check_series, require)
from ...training.spec import make_spec

NOTEBOOK = "resnet_ablation"

#: The article's validation (= test) accuracy per step, single runs.
ARTICLE = {0: 0.7288, 1: 0.8609, 2: 0.9124, 3: 0.8971, 4: 0.9044, 5: 0.9046, 6: 0.9070,
           7: 0.9096}
#: The article's seconds per epoch with Flatten (step 3) and GAP (step 4).
ARTICLE_EPOCH_SECONDS = {"Flatten": 52.0, "GAP": 51.0}
#: ImageDataGenerator(rotation_range=20, width/height_shift_range=0.2, horizontal_flip=True)
ARTICLE_DA = {"rotation": 20.0, "shift": 0.2, "flip": True}

TOP_KEYS = {"width", "bn_momentum", "dataset", "epochs", "batch_size", "learning_rate", "mixup_alpha",
            "seeds", "steps", "timing", "decayed", "long", "runtime"}


def validate(P: dict) -> None:
    check_known(P, TOP_KEYS)
    check_positive(P, "width", "epochs", "batch_size")
    check_positive(P, "learning_rate", "mixup_alpha", "bn_momentum", kind=float)
    check_seeds(require(P, "seeds", list))
    steps = require(P, "steps", list)
    bad = [s for s in steps if s not in range(len(RESNET_ABLATION_STEPS))]
    if not steps or bad:
        raise ParamError(f"parameter 'steps' = {steps!r}: each must be one of 0..7")
    check_series(P, "steps", steps)
    if P.get("decayed"):
        require(P["decayed"], "lr_schedule", dict, "decayed.")
    timing = P.get("timing") or {}
    if timing and (sorted(timing.get("steps", [])) != [3, 4] or timing.get("batches", 0) < 1):
        raise ParamError(f"parameter 'timing' = {timing!r} should be {{steps: [3, 4], batches: n>=1}}")


def step_spec(P: dict, step: int, seed: int, lr_schedule: dict | None = None) -> dict:
    """Step ``step`` of the article's recipe (a constant rate), or ending on
    ``lr_schedule`` where one is given (ours: the decayed series)."""
    changes = {"lr_schedule": lr_schedule} if lr_schedule else {}
    return make_spec(
        P, seed, **changes,
        model={"name": "resnet_ablation", "step": step, "width": P["width"],
               "bn_momentum": P["bn_momentum"]},
        optimizer={"learning_rate": P["learning_rate"], "amsgrad": step >= 7},
        mixing={"name": "mixup", "alpha": P["mixup_alpha"]} if step >= 6 else {},
        augment={"keras_da": ARTICLE_DA} if step >= 1 else {})


def runs(P: dict) -> list[dict]:
    """Every step on ``seeds`` (series ``article``), then the ``decayed``
    steps ending on its schedule and the ``long`` steps (series ``decayed``,
    ``long``)."""
    def row(step, seed, series, spec):
        return {"labels": {"step": step, "technique": RESNET_ABLATION_STEPS[step], "seed": seed,
                           "epochs": spec["epochs"], "series": series}, "spec": spec}
    out = [row(step, seed, "article", step_spec(P, step, seed))
           for step in sorted(P["steps"]) for seed in P["seeds"]]
    decayed = P.get("decayed") or {"steps": []}
    out += [row(step, seed, "decayed", step_spec(P, step, seed, decayed["lr_schedule"]))
            for seed in decayed.get("seeds", []) for step in decayed["steps"]]
    long = P.get("long") or {"steps": []}
    if long["steps"]:
        Pl = at_budget(P, long["epochs"] / P["epochs"], "lr_schedule")
        out += [row(step, seed, "long", step_spec(Pl, step, seed))
                for seed in long["seeds"] for step in long["steps"]]
    return out
