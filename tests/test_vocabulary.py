"""lib.training.vocabulary: the names profiles are checked against equal the
registries they name, and reading finished runs (the ledger, the index, every
profile) imports no deep-learning backend."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.training import vocabulary

REPO = Path(__file__).resolve().parent.parent


def test_the_vocabulary_names_what_the_registries_hold():
    from lib.training import losses, models, pipeline
    assert tuple(models.names()) == vocabulary.MODEL_NAMES
    assert tuple(losses.LOSSES) == vocabulary.ARTICLE_LOSSES
    assert pipeline.MIXINGS == vocabulary.MIXINGS
    assert len(vocabulary.RESNET_ABLATION_STEPS) == 8
    # the registered step builder takes exactly these steps
    models.build("resnet_ablation", step=len(vocabulary.RESNET_ABLATION_STEPS) - 1, width=4)


@pytest.mark.backend_free
def test_rendering_from_finished_runs_imports_no_backend():
    # keras, tensorflow and jax refuse to import; every profile and the ledger of the
    # committed runs (long runs' histories included) must not need them
    script = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('keras', 'tensorflow', 'jax'):\n"
        "            raise ModuleNotFoundError(f'{name} blocked for this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from lib.analysis import claims, report\n"
        "from lib.campaign import names, profiles\n"
        "for nb in names.NOTEBOOKS:\n"
        "    for p in names.PROFILES:\n"
        "        if profiles.has_profile(nb, p):\n"
        "            profiles.notebook_runs(nb, p)\n"
        "table = claims.ledger('budget')\n"
        "assert table['ours'].notna().any()\n"
        "print('rendered without a backend')\n")
    env = {k: v for k, v in os.environ.items() if k != "ABLATION_RESULTS_DIR"}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "rendered without a backend" in out.stdout
