"""mixup on the Keras ResNet-20 v1 example (the article: docs/articles.md#mixup_baseline).

The article trained the Keras example ``cifar10_resnet.py`` once without and
once with mixup (alpha = 0.2); we add seeds and an alpha sweep. ``alpha: 0``
means no mixup.
"""

from __future__ import annotations

from ..params import (ParamError, at_budget, check_budget_fractions, check_known,
                      check_positive, check_seeds, check_series, require)
from ...training.spec import make_spec

NOTEBOOK = "mixup_baseline"

#: The article's test accuracy, one run each (alpha 0 = without mixup).
ARTICLE = {0.0: 0.8978, 0.2: 0.9117}
#: The Keras example's DA: ImageDataGenerator(width/height_shift_range=0.1, horizontal_flip=True)
EXAMPLE_DA = {"shift": 0.1, "flip": True}
#: ``da: pipeline`` does it in the input pipeline instead: flip + whole-pixel shifts of up
#: to round(0.1 * 32) = 3 px, on the mixed batch. TensorFlow cannot compile Keras's
#: translation layer with XLA, and without XLA ResNet-20 trains 2-3x slower on a CPU.
PIPELINE_SHIFT = round(EXAMPLE_DA["shift"] * 32)

TOP_KEYS = {"model", "dataset", "epochs", "batch_size", "learning_rate", "lr_schedule",
            "alphas", "seeds", "sweep_seeds", "budget_fractions", "long", "da", "runtime"}


def validate(P: dict) -> None:
    check_known(P, TOP_KEYS)
    model = require(P, "model", dict)
    if model.get("name") != "resnet_v1" or (model.get("depth", 20) - 2) % 6:
        raise ParamError(f"parameter 'model' = {model!r} should be resnet_v1 with depth 6n+2")
    check_positive(P, "epochs", "batch_size")
    check_positive(P, "learning_rate", kind=float)
    sched = require(P, "lr_schedule", dict)
    if len(sched.get("milestones", [])) != len(sched.get("multipliers", [])):
        raise ParamError("parameter 'lr_schedule' needs as many multipliers as milestones")
    alphas = require(P, "alphas", list)
    if not alphas or any(not isinstance(a, (int, float)) or a < 0 for a in alphas):
        raise ParamError(f"parameter 'alphas' = {alphas!r}: non-negative numbers (0 = no mixup)")
    check_seeds(require(P, "seeds", list))
    if P.get("sweep_seeds") is not None:
        check_seeds(P["sweep_seeds"], "sweep_seeds")
    check_budget_fractions(P, "alphas", alphas)
    if "decayed" in P:
        raise ParamError("parameter 'decayed': mixup's runs already end on the example's decay")
    check_series(P, "alphas", alphas)
    if P.get("da", "layers") not in ("layers", "pipeline"):
        raise ParamError(f"parameter 'da' = {P['da']!r}: 'layers' (Keras layers, the "
                         "default) or 'pipeline'")


def alpha_spec(P: dict, alpha: float, seed: int) -> dict:
    return make_spec(P, seed, input="pixel_mean",
                     optimizer={"learning_rate": P["learning_rate"]},
                     lr_schedule={"name": "step", **P["lr_schedule"]},
                     mixing={"name": "mixup", "alpha": float(alpha)} if alpha > 0 else {},
                     augment={"shift_after_mixing": PIPELINE_SHIFT}
                     if P.get("da") == "pipeline" else {"keras_da": EXAMPLE_DA})


def runs(P: dict) -> list[dict]:
    """The article's pair (alpha 0 and 0.2) on ``seeds``; the other alphas of
    the sweep on ``sweep_seeds`` (default: the same seeds); all at ``budget``
    1.0, then the ``budget_fractions`` alphas at shorter budgets on ``seeds``
    (or ``budget_fractions.seeds``)."""
    out = []
    bf = P.get("budget_fractions") or {"alphas": [], "fractions": []}
    for alpha in sorted(float(a) for a in P["alphas"]):
        seeds = P["seeds"] if alpha in ARTICLE else (P.get("sweep_seeds") or P["seeds"])
        budgets = [1.0] + (sorted(bf["fractions"]) if alpha in bf["alphas"] else [])
        for budget in budgets:
            Pb = at_budget(P, budget, "lr_schedule")
            for seed in seeds if budget == 1.0 else bf.get("seeds", P["seeds"]):
                out.append({"labels": {"alpha": alpha, "mixup": alpha > 0, "seed": seed,
                                       "budget": budget, "epochs": Pb["epochs"],
                                       "series": "article"},
                            "spec": alpha_spec(Pb, alpha, seed)})
    long = P.get("long") or {"alphas": []}
    for alpha in sorted(float(a) for a in long["alphas"]):
        budget = long["epochs"] / P["epochs"]
        Pb = at_budget(P, budget, "lr_schedule")   # the example's decay at the same fractions
        for seed in long["seeds"]:
            out.append({"labels": {"alpha": alpha, "mixup": alpha > 0, "seed": seed,
                                   "budget": budget, "epochs": Pb["epochs"], "series": "long"},
                        "spec": alpha_spec(Pb, alpha, seed)})
    # seed-major: a campaign cut short still has whole seeds of every arm
    return sorted(out, key=lambda r: (r["labels"]["series"] == "long",
                                      r["labels"]["budget"] != 1.0, r["labels"]["seed"]))
