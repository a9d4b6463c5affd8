"""Run specs: the one base spec, how an experiment writes its runs as
differences from it, and the run id.

A run spec is a plain dict holding everything that changes a run's result.
Its id is a hash of the spec *as written*, so two rules keep cached runs
valid (``tests/test_spec.py`` recomputes the id of every committed run):

- ``BASE`` and what ``make_spec`` takes from a profile decide which keys a
  spec carries; changing them changes ids and retrains runs.
- Optional settings a spec may leave out (``OPTIONAL``) have their default
  here and are read through ``setting``; nothing else restates them.

See ``docs/design.md`` for the whole data flow.
"""

from __future__ import annotations

import copy

from ..store.paths import content_id

#: Every run starts from this; an experiment states only what it changes.
BASE: dict = {
    "notebook": None,                           # which notebook's runs (keeps ids apart)
    "dataset": {"name": "cifar10"},             # + train_subset / val_subset / test_subset / subset_seed
    "model": None,                              # lib.training.models.build(**model)
    "loss": {"name": "categorical_crossentropy"},
    "optimizer": {"name": "adam", "learning_rate": 1e-3},
    "lr_schedule": {"name": "constant"},        # see lib.training.schedules
    "mixing": {"name": "none"},                 # none | bc | bc_plus | mixup (lib.training.pipeline)
    "augment": {"standard_da": False},          # flip + shift in the pipeline (before mixing)
    "batch_size": None,
    "epochs": None,
    "seed": None,                               # initial weights and data order
}

#: Top-level keys a spec may add to BASE.
EXTRA_KEYS = ("input", "target_smoothing", "precision")

#: Defaults of the settings a spec may leave out, as "section.key" -> value.
OPTIONAL: dict = {
    "input": "unit",                  # pixel scaling: unit | zero_mean | pixel_mean (lib.training.pipeline)
    "target_smoothing": 0.0,          # smoothing of the targets in the data, seen by any loss
    "augment.max_shift": 4,           # standard DA: largest shift in pixels
    "augment.keras_da": None,         # Keras DA layers in front of the model (after mixing)
    "augment.shift_after_mixing": 0,  # flip + shift by up to n px of the mixed batch, in the pipeline
    "mixing.alpha": 0.2,              # mixup's Beta(alpha, alpha)
    "mixing.step_size": None,         # BC anchors per group; None = the batch size
    "optimizer.amsgrad": False,
    "optimizer.momentum": 0.0,
    "optimizer.nesterov": False,
    "loss.label_smoothing": 0.0,
    "precision": "float32",           # Keras dtype policy the run computes in: mixed_bfloat16
                                      # rounds differently, so it is another run (another id)
}

#: The ``precision`` values a profile may ask for.
PRECISIONS = ("float32", "mixed_bfloat16")


class SpecError(ValueError):
    """A spec names a key the trainer does not know."""


def make_spec(P: dict, seed: int, **changes) -> dict:
    """A run of notebook ``P["notebook"]``: ``BASE`` with the profile's shared
    settings (dataset, model, epochs, batch size, precision, where ``P`` has them), then
    ``changes``. A dict-valued change to a section that ``BASE`` defines as a
    dict is merged into it (``optimizer={"learning_rate": 0.01}`` keeps Adam);
    anything else (``model`` too) is replaced. Unknown keys raise ``SpecError``."""
    spec = copy.deepcopy(BASE)
    spec["notebook"] = P["notebook"]
    spec["dataset"].update(P.get("dataset") or {})
    for key in ("model", "epochs", "batch_size"):
        if key in P:
            spec[key] = copy.deepcopy(P[key])
    spec["seed"] = seed
    if P.get("precision", OPTIONAL["precision"]) != OPTIONAL["precision"]:
        spec["precision"] = P["precision"]    # absent at the default: float32 ids stay
    for key, value in changes.items():
        if key not in BASE and key not in EXTRA_KEYS:
            raise SpecError(f"unknown spec key {key!r}; known: {sorted(BASE) + list(EXTRA_KEYS)}")
        if isinstance(value, dict) and isinstance(BASE.get(key), dict):
            spec[key] = {**spec[key], **copy.deepcopy(value)}
        else:
            spec[key] = copy.deepcopy(value)
    missing = [k for k, v in spec.items() if v is None]
    if missing:
        raise SpecError(f"spec of {P['notebook']!r} lacks {missing}")
    return spec


def setting(spec: dict, path: str):
    """The value at ``"section.key"`` (or a top-level key) of ``spec``, else its
    default from ``OPTIONAL``."""
    if path not in OPTIONAL:
        raise KeyError(f"{path!r} is not an optional setting; known: {sorted(OPTIONAL)}")
    section, _, key = path.rpartition(".")
    where = spec.get(section, {}) if section else spec
    return where.get(key, OPTIONAL[path])


def spec_id(spec: dict) -> str:
    """First 12 hex digits of the SHA-256 of the canonical JSON (sorted keys)."""
    return content_id(spec)


def configuration(spec: dict) -> dict:
    """What of a spec decides the computation of a training step, and so its
    speed: not its length, schedule, seed, learning rate or data subset, nor
    BatchNorm's momentum (it only changes which moving average is kept). The
    one key that ``check``, ``plan`` and the calibration store speeds under."""
    model = {k: v for k, v in spec["model"].items() if k != "bn_momentum"}
    return {"model": model, "loss": spec["loss"]["name"],
            "optimizer": spec["optimizer"]["name"], "mixing": spec["mixing"]["name"],
            "step_size": setting(spec, "mixing.step_size") or spec["batch_size"],
            "augment": spec["augment"], "batch_size": spec["batch_size"],
            "input": setting(spec, "input")}


#: Schedules whose rate at an epoch does not depend on the run's length: under
#: them a run of E epochs trains exactly the first E epochs of a longer run of
#: the same spec (the data order and initial weights depend on the seed and the
#: epoch only). ``cosine`` spans the whole run, so its shorter runs differ.
LENGTH_FREE_SCHEDULES = ("constant", "step", "plateau")


def is_prefix(short: dict, long: dict) -> bool:
    """Whether run ``short`` is the first ``short["epochs"]`` epochs of run
    ``long``: the same spec but for a larger ``epochs``, under a schedule from
    ``LENGTH_FREE_SCHEDULES``."""
    return (short["epochs"] < long["epochs"]
            and short["lr_schedule"].get("name", "constant") in LENGTH_FREE_SCHEDULES
            and {**short, "epochs": None} == {**long, "epochs": None})


def read_prefixes(runs: list[dict]) -> list[dict]:
    """``runs`` (``{"labels", "spec"}`` each) with every run that is a prefix of
    a longer one in the list read from the longest such run instead: its
    ``spec`` becomes that run's, ``at_epoch`` says where to read it and
    ``own_spec`` keeps its own (a finished run of it may stand in while the
    longer one trains). So a length that a longer run of the same seed passes
    through is never trained twice; runs that are nobody's prefix are
    returned unchanged."""
    out = []
    for r in runs:
        longer = [o["spec"] for o in runs if is_prefix(r["spec"], o["spec"])]
        if longer:
            source = max(longer, key=lambda s: s["epochs"])
            r = {**r, "spec": source, "at_epoch": r["spec"]["epochs"], "own_spec": r["spec"]}
        out.append(r)
    return out
