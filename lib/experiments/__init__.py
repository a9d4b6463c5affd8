"""One module per notebook: ``validate(params)`` and ``runs(params)``.

``runs`` turns a validated profile into a list of ``{"labels": {...},
"spec": {...}}``, one per case and seed; ``labels`` (case, seed, ...) are
what the notebook groups by, ``spec`` is everything that changes the result.
"""

from importlib import import_module

_NOTEBOOKS = ("bc_learning", "resnet_ablation", "natural_artificial_loss", "mixup_baseline",
              "training_tricks")


def names() -> list[str]:
    return list(_NOTEBOOKS)


def get(notebook: str):
    if notebook not in _NOTEBOOKS:
        raise ValueError(f"unknown notebook {notebook!r}; known: {list(_NOTEBOOKS)}")
    return import_module(f"{__name__}.{notebook}")
