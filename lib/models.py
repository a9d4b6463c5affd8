"""Model builders, by name: ``build("cnn10", width=64)``.

Written with ``keras`` layers only, so they run on any Keras backend.
"""

from __future__ import annotations

import keras
from keras import layers

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


def _conv_bn_relu(x, channels, bn_momentum=0.99):
    x = layers.Conv2D(channels, 3, padding="same")(x)
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    return layers.Activation("relu")(x)


@register("cnn10")
def cnn10(width: int = 64, num_classes: int = 10, bn_momentum: float = 0.99) -> keras.Model:
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
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"cnn10_w{width}")
