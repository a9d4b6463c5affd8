"""Training tricks from the Oxford-IIIT Pet series' closing article
(docs/articles.md#training_tricks), studied on CIFAR-10 from scratch.

One baseline recipe (a model, Adam, cross-entropy, constant rate, flip +
shift DA) and one change per trick: label smoothing, KL divergence on the
same soft targets, RandomErasing, ReduceLROnPlateau and cosine decay. The
architecture-cost study trains other models with the baseline recipe.
"""

from __future__ import annotations

from ..params import (ParamError, at_budget, check_known, check_model, check_positive,
                      check_seeds, check_series, require)
from ...training.schedules import PLATEAU_KEYS
from ...training.spec import make_spec

NOTEBOOK = "training_tricks"

#: The article's Oxford-IIIT Pet numbers (fine-tuned, single runs): test accuracy and
#: batch-1 inference latency on Google Colaboratory.
ARTICLE_ARCHITECTURES = {
    "ResNet-34": {"val_accuracy": 0.916, "test_accuracy": 0.921, "latency_ms": 216.0},
    "ResNeXt-50-32x4d": {"val_accuracy": 0.938, "test_accuracy": 0.935, "latency_ms": 412.0},
}
#: The label-smoothing weight the article settled on (untuned, by its own account).
ARTICLE_LABEL_SMOOTHING = 0.2

#: Trick name -> (what it changes, the article's recommendation it tests).
TRICKS = {
    "baseline": "cross-entropy on one-hot targets, constant rate",
    "label_smoothing_0.1": "Keras CategoricalCrossentropy(label_smoothing=0.1)",
    "label_smoothing_0.2": "Keras CategoricalCrossentropy(label_smoothing=0.2)",
    "kl_divergence": "KLDivergence on the same 0.2-smoothed targets (smoothed in the data)",
    "random_erasing": "keras.layers.RandomErasing in front of the model",
    "reduce_on_plateau": "ReduceLROnPlateau on the validation loss",
    "cosine": "CosineDecay over the whole run",
}

TOP_KEYS = {"model", "dataset", "optimizer", "epochs", "batch_size", "max_shift",
            "label_smoothing", "kl_smoothing", "erasing", "plateau", "cosine", "seeds",
            "architectures", "arch_seeds", "latency", "decayed", "long", "runtime"}


def validate(P: dict) -> None:
    check_known(P, TOP_KEYS)
    check_model(P)
    require(P, "dataset", dict)
    opt = require(P, "optimizer", dict)
    if not isinstance(opt.get("learning_rate"), float) or opt["learning_rate"] <= 0:
        raise ParamError(f"parameter 'optimizer.learning_rate' = {opt.get('learning_rate')!r} "
                         "must be a positive float")
    check_positive(P, "epochs", "batch_size", "max_shift")
    values = require(P, "label_smoothing", list)
    if not values or any(not isinstance(a, float) or not 0 < a < 1 for a in values):
        raise ParamError(f"parameter 'label_smoothing' = {values!r}: floats in (0, 1)")
    kl = require(P, "kl_smoothing", float)
    if not 0 <= kl < 1:
        raise ParamError(f"parameter 'kl_smoothing' = {kl!r} must be in [0, 1)")
    erasing = require(P, "erasing", dict)
    if not isinstance(erasing.get("probability"), float) or not 0 < erasing["probability"] <= 1:
        raise ParamError(f"parameter 'erasing.probability' = {erasing.get('probability')!r} "
                         "must be a float in (0, 1]")
    plateau = require(P, "plateau", dict)
    unknown = set(plateau) - set(PLATEAU_KEYS)
    if unknown:
        raise ParamError(f"unknown 'plateau' option(s) {sorted(unknown)}")
    if plateau.get("monitor", "val_loss").startswith("val_") and \
            not P["dataset"].get("val_subset"):
        raise ParamError("'plateau' watches a validation metric: set dataset.val_subset")
    require(P, "cosine", dict)
    check_seeds(require(P, "seeds", list))
    archs = P.get("architectures") or {}
    for name, cfg in archs.items():
        check_model({"model": cfg})
        if name == "baseline":
            raise ParamError("'architectures' must not redefine 'baseline' (it is the baseline model)")
    if archs:
        check_seeds(require(P, "arch_seeds", list), "arch_seeds")
    tricks = trick_changes(P)
    check_series(P, "tricks", tricks)
    for key in ("decayed", "long"):
        scheduled = [t for t in (P.get(key) or {}).get("tricks", []) if "lr_schedule" in tricks[t]]
        if scheduled:
            raise ParamError(f"parameter '{key}.tricks' names {scheduled}, which set their own "
                             "learning-rate schedule")
    if "lr_schedule" in (P.get("decayed") or {}):
        raise ParamError("parameter 'decayed.lr_schedule': the decayed tricks use the profile's "
                         "'cosine' (the article's own decay), so it takes no schedule")


def _recipe(P: dict) -> dict:
    """The baseline recipe's differences from the base spec."""
    return {"input": "unit", "optimizer": P["optimizer"],
            "augment": {"standard_da": True, "max_shift": P["max_shift"]}}


def trick_changes(P: dict) -> dict[str, dict]:
    """Trick name -> what it changes in the baseline recipe (each one thing)."""
    da = _recipe(P)["augment"]
    out = {"baseline": {}}
    for a in P["label_smoothing"]:
        out[f"label_smoothing_{a:g}"] = {"loss": {"label_smoothing": a}}
    out["kl_divergence"] = {"loss": {"name": "kl_divergence"}}
    if P["kl_smoothing"]:
        out["kl_divergence"]["target_smoothing"] = P["kl_smoothing"]
    # inputs are in [0, 1]; the layer's default fill is noise clipped to that range
    out["random_erasing"] = {"augment": {**da, "keras_da": {
        "erasing": {"value_range": [0.0, 1.0], **P["erasing"]}}}}
    out["reduce_on_plateau"] = {"lr_schedule": {"name": "plateau", **P["plateau"]}}
    out["cosine"] = {"lr_schedule": {"name": "cosine", **P["cosine"]}}
    return out


def trick_specs(P: dict, seed: int) -> dict[str, dict]:
    """Trick name -> spec, for one seed."""
    return {trick: make_spec(P, seed, **{**_recipe(P), **change})
            for trick, change in trick_changes(P).items()}


def runs(P: dict) -> list[dict]:
    """Every trick on ``seeds``; every extra architecture (baseline recipe) on
    ``arch_seeds`` (series ``article``). The baseline runs double as the
    baseline architecture. Then the ``decayed`` tricks under the profile's
    cosine decay (the decayed baseline is the ``cosine`` trick) and the
    ``long`` tricks at the constant rate."""
    def row(trick, architecture, seed, series, spec):
        return {"labels": {"trick": trick, "architecture": architecture, "seed": seed,
                           "epochs": spec["epochs"], "series": series}, "spec": spec}
    out = []
    for seed in P["seeds"]:
        for trick, spec in trick_specs(P, seed).items():
            out.append(row(trick, "baseline", seed, "article", spec))
    for name, cfg in (P.get("architectures") or {}).items():
        for seed in P["arch_seeds"]:
            out.append(row("architecture", name, seed, "article",
                           make_spec(P, seed, **_recipe(P), model=cfg)))
    changes = trick_changes(P)
    decayed = P.get("decayed") or {"tricks": []}
    cosine = {"lr_schedule": {"name": "cosine", **P["cosine"]}}
    for seed in decayed.get("seeds", []):
        for trick in decayed["tricks"]:
            out.append(row(trick, "baseline", seed, "decayed",
                           make_spec(P, seed, **{**_recipe(P), **changes[trick], **cosine})))
    long = P.get("long") or {"tricks": []}
    if long["tricks"]:
        Pl = at_budget(P, long["epochs"] / P["epochs"], "lr_schedule")
        for seed in long["seeds"]:
            for trick in long["tricks"]:
                out.append(row(trick, "baseline", seed, "long",
                               make_spec(Pl, seed, **{**_recipe(Pl), **changes[trick]})))
    return out


def architecture_models(P: dict) -> dict[str, dict]:
    """Architecture name -> model config, the baseline model first."""
    return {"baseline": P["model"], **(P.get("architectures") or {})}
