"""Model builders, by name: ``build("cnn10", width=64)``.

Written with ``keras`` layers only, so they run on any Keras backend.
"""

from __future__ import annotations

import keras
from keras import layers

from .vocabulary import KERAS_BN_MOMENTUM, RESNET_ABLATION_STEPS  # noqa: F401 (re-exported)

_BUILDERS = {}


def register(name):
    def deco(fn):
        _BUILDERS[name] = fn
        return fn
    return deco


def names() -> list[str]:
    return sorted(_BUILDERS)


def build(name: str, **options) -> keras.Model:
    """Build the model registered as ``name`` with its keyword ``options``."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; known models: {names()}")
    try:
        return _BUILDERS[name](**options)
    except TypeError as exc:
        raise ValueError(f"bad options {options} for model {name!r}: {exc}") from exc


def _softmax_head(x, num_classes, **kwargs):
    """The classifier: a softmax Dense kept in float32 even under a mixed
    precision policy (probabilities near 0 and 1 need the range)."""
    return layers.Dense(num_classes, activation="softmax", dtype="float32", **kwargs)(x)


def _conv_bn_relu(x, channels, bn_momentum=KERAS_BN_MOMENTUM):
    x = layers.Conv2D(channels, 3, padding="same")(x)
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    return layers.Activation("relu")(x)


@register("cnn10")
def cnn10(width: int = 64, num_classes: int = 10, bn_momentum: float = KERAS_BN_MOMENTUM) -> keras.Model:
    """The BC-learning article's 10-layer CNN.

    Three stages of three Conv3x3-BN-ReLU at ``width``, ``2*width`` and
    ``4*width`` channels, AveragePooling(2) between stages, global average
    pooling and a softmax Dense. ``width=64`` is the article's network; the
    small profiles shrink it. ``bn_momentum`` only sets how fast BatchNorm's
    inference statistics follow training (Keras's 0.99 needs a few hundred
    steps; short CPU runs with fewer use 0.9); it does not change training.
    """
    if width < 1:
        raise ValueError(f"width must be a positive integer, got {width}")
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for stage, channels in enumerate((width, 2 * width, 4 * width)):
        if stage:
            x = layers.AveragePooling2D(2)(x)
        for _ in range(3):
            x = _conv_bn_relu(x, channels, bn_momentum)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = _softmax_head(x, num_classes)
    return keras.Model(inputs, outputs, name=f"cnn10_w{width}")


def _conv_act(x, channels, kernel, bn, strides=1, padding="same", bn_momentum=KERAS_BN_MOMENTUM):
    x = layers.Conv2D(channels, kernel, strides=strides, padding=padding)(x)
    if bn:   # before the ReLU, as the article places it
        x = layers.BatchNormalization(momentum=bn_momentum)(x)
    return layers.Activation("relu")(x)


def _article_resblock(x, channels, bn_momentum=KERAS_BN_MOMENTUM):
    """The article's block: Conv-BN-ReLU-Conv, add the input, then BN-ReLU."""
    y = layers.Conv2D(channels, 3, padding="same")(x)
    y = layers.BatchNormalization(momentum=bn_momentum)(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(channels, 3, padding="same")(y)
    x = layers.Add()([y, x])
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    return layers.Activation("relu")(x)


@register("resnet_ablation")
def resnet_ablation(step: int = 0, width: int = 64, num_classes: int = 10,
                    bn_momentum: float = KERAS_BN_MOMENTUM) -> keras.Model:
    """The 10-conv-layer CNN of the ResNet-technique article at ``step`` 0..7.

    0: Conv1x1 64, then per stage two 3x3 same convs and a 3x3 stride-2 valid
    conv at 64/128/256, ReLU, Flatten, Dense. 2: BN before every ReLU.
    3: each stage's two convs become the article's residual block, which keeps
    its input's channels, so the blocks run at 64, 64, 128 (the article's final
    code). 4: GlobalAveragePooling instead of Flatten. 5: Dropout(0.2) after
    each stride-2 conv. Steps 1, 6 and 7 build the same model as the step before.
    ``width`` scales every channel count (64 is the article's; small profiles shrink it);
    ``bn_momentum`` as in :func:`cnn10`.
    """
    if not 0 <= step <= 7:
        raise ValueError(f"resnet_ablation step must be 0..7, got {step}")
    bn, residual, gap, dropout = step >= 2, step >= 3, step >= 4, step >= 5
    inputs = keras.Input((32, 32, 3))
    kw = {"bn_momentum": bn_momentum}
    x = _conv_act(inputs, width, 1, bn, **kw)
    channels = width
    for stage_width in (width, 2 * width, 4 * width):
        if residual:
            x = _article_resblock(x, channels, **kw)
        else:
            x = _conv_act(x, stage_width, 3, bn, **kw)
            x = _conv_act(x, stage_width, 3, bn, **kw)
        x = _conv_act(x, stage_width, 3, bn, strides=2, padding="valid", **kw)
        channels = stage_width
        if dropout:
            x = layers.Dropout(0.2)(x)
    x = layers.GlobalAveragePooling2D()(x) if gap else layers.Flatten()(x)
    outputs = _softmax_head(x, num_classes)
    return keras.Model(inputs, outputs, name=f"resnet_ablation_step{step}")


def _resnet_layer(x, filters=16, kernel=3, strides=1, activation="relu", bn=True,
                  bn_momentum=KERAS_BN_MOMENTUM):
    """The Keras example's conv-BN-ReLU unit (He-normal init, L2 1e-4)."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same",
                      kernel_initializer="he_normal",
                      kernel_regularizer=keras.regularizers.L2(1e-4))(x)
    if bn:
        x = layers.BatchNormalization(momentum=bn_momentum)(x)
    if activation:
        x = layers.Activation(activation)(x)
    return x


@register("resnet_v1")
def resnet_v1(depth: int = 20, num_classes: int = 10, bn_momentum: float = KERAS_BN_MOMENTUM) -> keras.Model:
    """ResNet v1 of the Keras example ``cifar10_resnet.py`` (depth = 6n + 2):
    a 16-channel stem, three stages of n basic blocks at 16/32/64 channels
    (1x1 stride-2 projection on the shortcut where the size changes),
    AveragePooling(8), Flatten, softmax Dense (He-normal). ``bn_momentum`` as
    in :func:`cnn10` (the example's is Keras's 0.99)."""
    if (depth - 2) % 6:
        raise ValueError(f"ResNet v1 depth must be 6n + 2 (20, 32, 44, 56, 110), got {depth}")
    blocks = (depth - 2) // 6
    inputs = keras.Input((32, 32, 3))
    kw = {"bn_momentum": bn_momentum}
    x = _resnet_layer(inputs, **kw)
    filters = 16
    for stage in range(3):
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            y = _resnet_layer(x, filters, strides=strides, **kw)
            y = _resnet_layer(y, filters, activation=None, **kw)
            if strides == 2:
                x = _resnet_layer(x, filters, kernel=1, strides=2, activation=None, bn=False)
            x = layers.Activation("relu")(layers.Add()([x, y]))
        filters *= 2
    x = layers.Flatten()(layers.AveragePooling2D(pool_size=8)(x))
    outputs = _softmax_head(x, num_classes, kernel_initializer="he_normal")
    return keras.Model(inputs, outputs, name=f"resnet{depth}_v1")


@register("resnet20v1")
def resnet20v1(num_classes: int = 10) -> keras.Model:
    return resnet_v1(20, num_classes)


def flops_per_image(model: keras.Model) -> dict:
    """Floating-point operations of one image's forward pass, counting the
    multiply-adds of Conv2D and Dense layers as 2 FLOPs each (BatchNorm,
    activations and pooling add well under 1 % for these nets and are left
    out). A training step costs about 3x the forward pass (forward, and
    gradients w.r.t. activations and weights), reported as ``train``."""
    total = 0
    for layer in _leaf_layers(model):
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            cin = layer.kernel.shape[2]
            _, h, w, cout = layer.output.shape
            total += 2 * kh * kw * cin * cout * h * w
        elif isinstance(layer, keras.layers.Dense):
            cin, cout = layer.kernel.shape
            total += 2 * cin * cout
    return {"forward": int(total), "train": int(3 * total)}


def _leaf_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            yield from _leaf_layers(layer)
        else:
            yield layer
