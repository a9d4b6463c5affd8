import copy

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _results(tmp_path, monkeypatch):
    """Every test writes runs and timings into its own folder."""
    monkeypatch.setenv("ABLATION_RESULTS_DIR", str(tmp_path / "results"))


def changed_settings(a: dict, b: dict, prefix: str = "") -> set[str]:
    """Dotted paths of the leaves where two parameter dicts differ (a key
    missing from one side counts as a change)."""
    out = set()
    for k in set(a) | set(b):
        path = f"{prefix}{k}"
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out |= changed_settings(va, vb, path + ".")
        elif va != vb:
            out.add(path)
    return out


def make_tiny_data():
    """A synthetic 'CIFAR-10': 80 train / 40 test images whose class is
    written into the image (a bright stripe at row 3*label), so a tiny
    model can learn it in a few steps."""
    rng = np.random.default_rng(0)

    def make(n):
        y = np.arange(n) % 10
        x = rng.integers(0, 60, (n, 32, 32, 3), dtype=np.uint8)
        for i, c in enumerate(y):
            x[i, 3 * c:3 * c + 2] = 250
        return x, y.astype(np.int64)

    return (*make(80), *make(40))


TINY_SPEC = {
    "notebook": "test",
    "dataset": {"name": "cifar10", "train_subset": None, "test_subset": None},
    "model": {"name": "cnn10", "width": 2, "bn_momentum": 0.9},
    "loss": {"name": "kl_divergence"},
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "lr_schedule": {"name": "step", "milestones": [2], "factor": 0.5},
    "mixing": {"name": "bc", "step_size": 8},
    "augment": {"standard_da": True, "max_shift": 4},
    "batch_size": 16,
    "epochs": 3,
    "seed": 0,
}


@pytest.fixture
def tiny_data():
    return make_tiny_data()


@pytest.fixture
def tiny_spec():
    return copy.deepcopy(TINY_SPEC)
