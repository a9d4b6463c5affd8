"""Profile parameters: ``params/<notebook>/<profile>.yaml`` plus overrides."""

from __future__ import annotations

from pathlib import Path

import yaml

PARAMS_DIR = Path(__file__).resolve().parent.parent / "params"


class ParamError(ValueError):
    """A parameter is missing, unknown or inconsistent; the message names it."""


def load(notebook: str, profile: str, overrides: dict | None = None) -> dict:
    """Read a profile, apply ``overrides`` (top-level keys, ``None`` values
    ignored) and validate it with the notebook's experiment module, so bad
    input fails here, before any training."""
    from . import experiments

    path = PARAMS_DIR / notebook / f"{profile}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (PARAMS_DIR / notebook).glob("*.yaml"))
        raise ParamError(f"no profile {profile!r} for notebook {notebook!r} "
                         f"(looked for {path}; known profiles: {known})")
    P = yaml.safe_load(path.read_text()) or {}
    for key, value in (overrides or {}).items():
        if value is not None:
            P[key] = value
    P["notebook"], P["profile"] = notebook, profile
    experiments.get(notebook).validate(P)
    return P


def require(P: dict, key: str, kind, where: str = ""):
    """``P[key]`` checked against ``kind``; the error names the parameter."""
    name = f"{where}{key}"
    if key not in P:
        raise ParamError(f"missing parameter {name!r}")
    value = P[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ParamError(f"parameter {name!r} = {value!r} should be {kind}")
    return value


def check_known(P: dict, known: set) -> None:
    unknown = set(P) - known - {"notebook", "profile"}
    if unknown:
        raise ParamError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(known)}")


def check_model(P: dict) -> dict:
    from . import models

    model = require(P, "model", dict)
    if model.get("name") not in models.names():
        raise ParamError(f"parameter 'model.name' = {model.get('name')!r} is not a known "
                         f"model {models.names()}")
    return model


def check_positive(P: dict, *keys: str, kind=int) -> None:
    for key in keys:
        if not require(P, key, kind) > 0:
            raise ParamError(f"parameter {key!r} = {P[key]!r} must be > 0")


def check_seeds(seeds, name: str = "seeds") -> None:
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ParamError(f"parameter {name!r} = {seeds!r} should be a non-empty list of ints")
