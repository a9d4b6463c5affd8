"""lib.params: profile loading."""

import pytest

from lib.campaign import profiles
from lib.campaign.params import ParamError

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free


def test_unknown_profile_is_named():
    with pytest.raises(ParamError, match="no profile 'huge'"):
        profiles.load("bc_learning", "huge")


def test_precision_is_checked_and_reaches_every_run_and_a_base_profile():
    with pytest.raises(ParamError, match="'precision' = 'float8'"):
        profiles.load("bc_learning", "smoke", {"precision": "float8"})
    _, runs = profiles.notebook_runs("bc_learning", "smoke", {"precision": "mixed_bfloat16"})
    assert runs and all(r["spec"]["precision"] == "mixed_bfloat16" for r in runs)
    _, plain = profiles.notebook_runs("bc_learning", "smoke")
    assert all("precision" not in r["spec"] for r in plain)
    P = profiles.load("calibration", "budget", {"precision": "mixed_bfloat16"})
    assert P["base"]["precision"] == "mixed_bfloat16"
