"""lib.params: profile loading."""

import pytest

from lib.campaign import profiles
from lib.campaign.params import ParamError

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free


def test_unknown_profile_is_named():
    with pytest.raises(ParamError, match="no profile 'huge'"):
        profiles.load("bc_learning", "huge")
