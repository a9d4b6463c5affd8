import numpy as np
import pytest

from lib.training import models


def _cnn10_params(w, classes=10):
    """Hand count: 3x3 convs with bias, BN (gamma, beta, moving mean/var), Dense."""
    chans = [3] + [w] * 3 + [2 * w] * 3 + [4 * w] * 3
    conv = sum(9 * cin * cout + cout for cin, cout in zip(chans[:-1], chans[1:]))
    bn = 4 * sum(chans[1:])
    return conv + bn + 4 * w * classes + classes


def test_cnn10_matches_the_articles_network():
    m = models.build("cnn10")
    # The article's Keras model (3x[Conv-BN-ReLU]@64/128/256, GAP, Dense) has 1,927,946 params.
    assert m.count_params() == 1_927_946 == _cnn10_params(64)
    assert m.output_shape == (None, 10)
    convs = [l for l in m.layers if l.__class__.__name__ == "Conv2D"]
    assert [l.filters for l in convs] == [64] * 3 + [128] * 3 + [256] * 3
    assert sum(l.__class__.__name__ == "AveragePooling2D" for l in m.layers) == 2


@pytest.mark.parametrize("width", [4, 16])
def test_cnn10_width_option(width):
    m = models.build("cnn10", width=width)
    assert m.count_params() == _cnn10_params(width)
    p = np.asarray(m(np.zeros((2, 32, 32, 3), np.float32)))
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)      # softmax output


def test_unknown_model_and_bad_option_fail_clearly():
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        models.build("vgg")
    with pytest.raises(ValueError, match="bad options"):
        models.build("cnn10", depth=3)


def _resnet_v1_params(depth):
    """Hand count: 3x3 convs (bias) + BN (4/channel), 1x1 projections without BN, Dense."""
    n = (depth - 2) // 6
    total = (27 * 16 + 16) + 4 * 16
    cin = 16
    for stage, f in enumerate((16, 32, 64)):
        for block in range(n):
            total += (9 * cin * f + f) + 4 * f + (9 * f * f + f) + 4 * f
            if stage > 0 and block == 0:
                total += cin * f + f
            cin = f
    return total + 64 * 10 + 10


def test_resnet20_v1_matches_the_keras_example():
    m = models.build("resnet20v1")
    assert m.count_params() == _resnet_v1_params(20) == 274_442
    assert round(m.count_params() / 1e6, 2) == 0.27        # the example's table: 0.27M
    convs = [l for l in m.layers if l.__class__.__name__ == "Conv2D"]
    assert len(convs) == 21 and {l.filters for l in convs} == {16, 32, 64}  # 19 + 2 projections
    assert all(l.kernel_regularizer is not None for l in convs)
    assert models.build("resnet_v1", depth=32).count_params() == _resnet_v1_params(32)
    bns = lambda m: [l.momentum for l in m.layers if l.__class__.__name__ == "BatchNormalization"]
    assert set(bns(m)) == {0.99} and len(bns(m)) == 19       # every conv but the projections
    fast = models.build("resnet_v1", depth=20, bn_momentum=0.9)
    assert set(bns(fast)) == {0.9} and fast.count_params() == m.count_params()
    with pytest.raises(ValueError, match="6n"):
        models.build("resnet_v1", depth=21)
