"""One module per notebook: ``validate(params)`` and ``runs(params)``; and
``calibration``, the runs that size the ``budget`` profile (no notebook of its
own: ``python -m lib.calibration`` reports it).

``runs`` turns a validated profile into a list of ``{"labels": {...},
"spec": {...}}``, one per case and seed; ``labels`` (case, seed, ...) are
what the notebook groups by, ``spec`` is everything that changes the result.
"""

from importlib import import_module

_NOTEBOOKS = ("bc_learning", "resnet_ablation", "natural_artificial_loss", "mixup_baseline",
              "training_tricks")
_OTHERS = ("calibration",)


def notebooks() -> list[str]:
    """The notebooks (each has ``notebooks/<name>.ipynb``)."""
    return list(_NOTEBOOKS)


def names() -> list[str]:
    """Everything ``python -m lib.runs compute`` can compute."""
    return list(_NOTEBOOKS + _OTHERS)


def get(notebook: str):
    if notebook not in _NOTEBOOKS + _OTHERS:
        raise ValueError(f"unknown notebook {notebook!r}; known: {names()}")
    return import_module(f"{__name__}.{notebook}")
