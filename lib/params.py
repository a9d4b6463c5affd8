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
