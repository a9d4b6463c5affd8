"""Host-side (numpy) augmentation and mixing, vectorized over the batch.

These run in the input pipeline, before the model, so they are backend
independent and never loop over images in Python.
"""

from __future__ import annotations

import numpy as np

from .data import NUM_CLASSES


def one_hot(labels, num_classes: int = NUM_CLASSES) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[np.asarray(labels)]


def flip_and_shift(images, rng: np.random.Generator, max_shift: int = 4) -> np.ndarray:
    """The BC paper's "standard" augmentation: random horizontal flip and an
    integer shift of up to ``max_shift`` pixels in each direction.

    Pixels shifted in are copies of the nearest edge pixel (the fill mode
    of Keras's ImageDataGenerator, which the article used). Returns the same
    dtype as ``images``.
    """
    x = np.asarray(images)
    n, h, w, _ = x.shape
    flip = rng.random(n) < 0.5
    x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
    if max_shift <= 0:
        return x
    pad = max_shift
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    dy = rng.integers(-max_shift, max_shift + 1, n)
    dx = rng.integers(-max_shift, max_shift + 1, n)
    rows = np.arange(h)[None, :] + pad - dy[:, None]          # (n, h)
    cols = np.arange(w)[None, :] + pad - dx[:, None]          # (n, w)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def _partners(labels: np.ndarray, rng: np.random.Generator, repeats: int) -> np.ndarray:
    """For each of ``repeats`` copies of every anchor, the index of a uniformly
    drawn member of the group with a different label. An anchor whose class
    is the only one in the group is paired with itself (mixing is then a
    no-op), which only happens for tiny or degenerate groups."""
    n = len(labels)
    anchor_labels = np.tile(labels, repeats)                       # (R*N,)
    scores = rng.random((n * repeats, n))
    scores[anchor_labels[:, None] == labels[None, :]] = -1.0       # forbid same class
    partners = scores.argmax(axis=1)
    alone = scores.max(axis=1) < 0
    partners[alone] = np.tile(np.arange(n), repeats)[alone]
    return partners


def _folded_ratio(rng: np.random.Generator, size: int) -> np.ndarray:
    r = rng.random(size).astype(np.float32)
    return np.maximum(r, 1.0 - r)  # anchor weight in [0.5, 1]


def bc_mix(images, labels, rng: np.random.Generator, repeats: int = 1,
           num_classes: int = NUM_CLASSES):
    """Between-class mixing as in the article's generator, vectorized.

    Each of the N anchors in ``images`` is mixed ``repeats`` times with a
    random image of a *different* class from the same group; the anchor
    weight r ~ U(0, 1) is folded to [0.5, 1] and images and one-hot labels
    are mixed with the same r. Output row ``k + i*N`` is the ``i``-th mix of
    anchor ``k``.

    Returns ``(mixed_images float32 (N*repeats, H, W, C), soft_labels
    float32 (N*repeats, num_classes), r (N*repeats,), partners (N*repeats,))``.
    Images keep their scale (divide by 255 before or after; mixing is linear).
    """
    x = np.asarray(images, np.float32)
    labels = np.asarray(labels).reshape(-1)
    anchors = np.tile(np.arange(len(x)), repeats)
    partners = _partners(labels, rng, repeats)
    r = _folded_ratio(rng, len(anchors))
    rb = r[:, None, None, None]
    mixed = rb * x[anchors] + (1.0 - rb) * x[partners]
    y = one_hot(labels, num_classes)
    soft = r[:, None] * y[anchors] + (1.0 - r[:, None]) * y[partners]
    return mixed, soft, r, partners


def bc_plus_mix(images, labels, rng: np.random.Generator, repeats: int = 1,
                num_classes: int = NUM_CLASSES, eps: float = 1e-8):
    """BC+ mixing: images treated as waveforms (Tokozume et al., 2018).

    Each image's own mean is removed; with the images' standard deviations
    s1 (anchor) and s2 (partner), p = 1 / (1 + s1/s2 * (1-r)/r) and
    x = (p*x1 + (1-p)*x2) / sqrt(p^2 + (1-p)^2). Labels are mixed with r,
    not p. Partners and folded r are drawn exactly as in :func:`bc_mix`.
    """
    x = np.asarray(images, np.float32)
    labels = np.asarray(labels).reshape(-1)
    x = x - x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3)) + eps
    anchors = np.tile(np.arange(len(x)), repeats)
    partners = _partners(labels, rng, repeats)
    r = _folded_ratio(rng, len(anchors))
    p = 1.0 / (1.0 + std[anchors] / std[partners] * (1.0 - r) / r)
    pb = p[:, None, None, None]
    mixed = (pb * x[anchors] + (1.0 - pb) * x[partners]) / np.sqrt(pb ** 2 + (1.0 - pb) ** 2)
    y = one_hot(labels, num_classes)
    soft = r[:, None] * y[anchors] + (1.0 - r[:, None]) * y[partners]
    return mixed.astype(np.float32), soft, r, partners


def mixup(x1, y1, x2, y2, rng: np.random.Generator, alpha: float = 0.2):
    """mixup as the articles' generator does it: each of the B pairs gets its
    own lambda ~ Beta(alpha, alpha); images and one-hot labels are mixed with
    the same lambda. Returns ``(images float32, labels float32, lam (B,))``."""
    lam = rng.beta(alpha, alpha, len(x1)).astype(np.float32)
    lb = lam[:, None, None, None]
    x = lb * np.asarray(x1, np.float32) + (1.0 - lb) * np.asarray(x2, np.float32)
    y = lam[:, None] * np.asarray(y1, np.float32) + (1.0 - lam[:, None]) * np.asarray(y2, np.float32)
    return x, y, lam


def keras_augmentation(rotation: float = 0.0, shift: float = 0.0, flip: bool = False,
                       fill_mode: str = "nearest", erasing: dict | None = None):
    """ImageDataGenerator-style geometric DA as Keras layers (active only in
    training): rotation in degrees, shift as a fraction of the size, h-flip.
    ``erasing`` adds ``keras.layers.RandomErasing`` last: ``probability`` is
    the fixed chance that an image gets a box erased (passed as the range
    ``(p, p)``: a single float would make Keras draw the probability itself
    from U(0, p)); ``scale``, ``fill_value`` and ``value_range`` go to the
    layer unchanged (``value_range`` must match the model's input range).
    Prepended to the model, it runs after host-side mixing, on the device."""
    import keras
    from keras import layers

    stack = []
    if rotation:
        stack.append(layers.RandomRotation(rotation / 360.0, fill_mode=fill_mode))
    if shift:
        stack.append(layers.RandomTranslation(shift, shift, fill_mode=fill_mode))
    if flip:
        stack.append(layers.RandomFlip("horizontal"))
    if erasing:
        opts = dict(erasing)
        p = float(opts.pop("probability"))
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"erasing probability {p} must be in [0, 1]")
        unknown = set(opts) - {"scale", "fill_value", "value_range"}
        if unknown:
            raise ValueError(f"unknown erasing options {sorted(unknown)}")
        opts = {k: tuple(v) if isinstance(v, list) else v for k, v in opts.items()}
        stack.append(layers.RandomErasing(factor=(p, p), **opts))
    if keras.backend.backend() == "jax":
        # Keras marks rotation/translation as not XLA-compilable because of
        # TensorFlow's projective-transform op; their JAX versions are plain
        # jnp code that traces fine, and without jit a GPU would run op by op.
        for layer in stack:
            layer.supports_jit = True
    return keras.Sequential(stack, name="augment")
