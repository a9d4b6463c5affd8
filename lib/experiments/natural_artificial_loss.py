"""Natural-vs-artificial auxiliary loss
(article: ../shared/seeds/natural_artificial_loss_article.txt).

Five patterns, each a loss and a learning rate, trained with the same cnn10,
Adam without decay and no augmentation; `seeds` runs per pattern, then
`extra_seeds` more for the two patterns the article compared 15 times.
Accuracy is always the 10-class accuracy.
"""

from __future__ import annotations

from .. import models
from ..losses import LOSSES
from ..params import ParamError, require

NOTEBOOK = "natural_artificial_loss"

#: Pattern order and the article's names for them.
PATTERNS = {
    "natural_hardmax": "Natural HardMax",
    "natural_softmax": "Natural SoftMax",
    "multi_softmax": "Multiple Softmax CrossEntropy",
    "normal_lr1e-3": "Normal label only (lr=1e-3)",
    "normal_lr1e-2": "Normal label only (lr=1e-2)",
}
#: The article's claims (it publishes box plots, not numbers).
CLAIMS = {
    "stably_above_90": "Natural SoftMax is stably above 90% best test accuracy",
    "gain_1_2_points": "Natural SoftMax is 1-2 points above Normal (lr=1e-3) over 15 runs",
    "lr1e-2_worse": "Normal with lr=1e-2 is worse than with lr=1e-3",
    "hardmax_bad": "Natural HardMax is clearly the worst",
}
LOSS_NAMES = set(LOSSES) | {"categorical_crossentropy"}
TOP_KEYS = {"model", "dataset", "epochs", "batch_size", "seeds", "extra_seeds", "patterns",
            "runtime", "notebook", "profile"}


def validate(P: dict) -> None:
    unknown = set(P) - TOP_KEYS
    if unknown:
        raise ParamError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(TOP_KEYS)}")
    model = require(P, "model", dict)
    if model.get("name") not in models.names():
        raise ParamError(f"parameter 'model.name' = {model.get('name')!r} is not a known "
                         f"model {models.names()}")
    for key in ("epochs", "batch_size"):
        if require(P, key, int) < 1:
            raise ParamError(f"parameter {key!r} must be >= 1")
    seeds = require(P, "seeds", list)
    if not seeds or not all(isinstance(s, int) for s in seeds):
        raise ParamError(f"parameter 'seeds' = {seeds!r} should be a non-empty list of ints")
    patterns = require(P, "patterns", dict)
    for name, pat in patterns.items():
        if name not in PATTERNS:
            raise ParamError(f"unknown pattern {name!r} in parameter 'patterns'; known: "
                             f"{list(PATTERNS)}")
        if pat.get("loss") not in LOSS_NAMES:
            raise ParamError(f"parameter 'patterns.{name}.loss' = {pat.get('loss')!r}; "
                             f"known: {sorted(LOSS_NAMES)}")
        lr = pat.get("learning_rate")
        if not isinstance(lr, float) or lr <= 0:
            raise ParamError(f"parameter 'patterns.{name}.learning_rate' = {lr!r} must be > 0")
    for name, extra in (P.get("extra_seeds") or {}).items():
        if name not in patterns:
            raise ParamError(f"parameter 'extra_seeds' names pattern {name!r}, not in 'patterns'")
        if not all(isinstance(s, int) for s in extra):
            raise ParamError(f"parameter 'extra_seeds.{name}' should be a list of ints")


def pattern_spec(P: dict, pattern: str, seed: int) -> dict:
    pat = P["patterns"][pattern]
    return {
        "notebook": NOTEBOOK,
        "dataset": {"name": "cifar10", **P.get("dataset", {})},
        "model": P["model"],
        "loss": {"name": pat["loss"]},
        "optimizer": {"name": "adam", "learning_rate": pat["learning_rate"]},
        "lr_schedule": {"name": "constant"},
        "mixing": {"name": "none"},
        "augment": {"standard_da": False},
        "batch_size": P["batch_size"],
        "epochs": P["epochs"],
        "seed": seed,
    }


def runs(P: dict) -> list[dict]:
    extra = P.get("extra_seeds") or {}
    out = []
    for pattern in (p for p in PATTERNS if p in P["patterns"]):
        seeds = list(P["seeds"]) + [s for s in extra.get(pattern, []) if s not in P["seeds"]]
        for seed in seeds:
            out.append({"labels": {"pattern": pattern, "seed": seed,
                                   "first_batch": seed in P["seeds"]},
                        "spec": pattern_spec(P, pattern, seed)})
    return out
