"""One module per notebook: ``validate(params)`` and ``runs(params)``; and
``calibration``, the runs that size the ``budget`` profile (no notebook of its
own: ``python -m lib calibrate`` reports it).

``runs`` turns a validated profile into a list of ``{"labels": {...},
"spec": {...}}``, one per case and seed; ``labels`` (case, seed, ...) are
what the notebook groups by, ``spec`` is everything that changes the result.
"""

from importlib import import_module

from ..names import NOTEBOOKS as _NOTEBOOKS, OTHERS as _OTHERS


def notebooks() -> list[str]:
    """The notebooks (each has ``notebooks/<name>.ipynb``)."""
    return list(_NOTEBOOKS)


def names() -> list[str]:
    """Everything ``python -m lib compute`` can compute."""
    return list(_NOTEBOOKS + _OTHERS)


def get(notebook: str):
    if notebook not in _NOTEBOOKS + _OTHERS:
        raise ValueError(f"unknown notebook {notebook!r}; known: {names()}")
    return import_module(f"{__name__}.{notebook}")
