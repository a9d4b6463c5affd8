"""Calibration runs of the ``budget`` profile: the BC-learning baseline
(case 0 of ``params/bc_learning/<profile>.yaml``) at other ``cnn10`` widths,
for a few epochs, so the chosen width can be set against them at equal
training time. Width 16's own curve comes from the notebook's case-0 runs
(constant rate: the accuracy after k epochs of a longer run is that of a
k-epoch run).
"""

from __future__ import annotations

from ..params import ParamError, check_known, check_seeds, require
from . import bc_learning

NOTEBOOK = "calibration"
#: ``profiles.load`` puts this notebook's profile of the same name under ``P["base"]``.
BASE_NOTEBOOK = "bc_learning"
TOP_KEYS = {"widths", "seeds", "base"}


def validate(P: dict) -> None:
    check_known(P, TOP_KEYS)
    widths = require(P, "widths", dict)
    if not widths or any(not isinstance(w, int) or not isinstance(e, int) or w < 1 or e < 1
                         for w, e in widths.items()):
        raise ParamError(f"parameter 'widths' = {widths!r}: {{width: epochs}}, positive ints")
    check_seeds(require(P, "seeds", list))


def runs(P: dict) -> list[dict]:
    bc = P["base"]
    out = []
    for width, epochs in P["widths"].items():
        Pw = dict(bc, notebook=NOTEBOOK, epochs=epochs, model={**bc["model"], "width": width})
        for seed in P["seeds"]:
            out.append({"labels": {"width": width, "seed": seed, "epochs": epochs},
                        "spec": bc_learning.case_spec(Pw, 0, seed)})
    return out
