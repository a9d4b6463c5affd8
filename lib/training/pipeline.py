"""Training input pipeline: sampling, augmentation and mixing per batch.

``MixingBatches`` is a ``keras.utils.PyDataset`` so Keras can prefetch it in
worker threads, overlapping the (numpy, vectorized) host work with the model
step on any backend. Every batch is a pure function of (seed, epoch, index),
so a resumed run sees the same data as an uninterrupted one.
"""

from __future__ import annotations

import numpy as np
import keras

from . import augment
from .vocabulary import MIXINGS


NORMALIZATIONS = ("unit", "zero_mean", "pixel_mean")


def normalize(images, mode: str = "unit", pixel_mean=None) -> np.ndarray:
    """uint8 -> float32 in [0, 1]; ``zero_mean`` also removes each image's mean
    (BC+ trains on zero-mean images, so it is evaluated on them too);
    ``pixel_mean`` subtracts the training set's per-pixel mean (the Keras
    ResNet example's ``subtract_pixel_mean``)."""
    x = np.asarray(images, np.float32) / 255.0
    if mode == "zero_mean":
        x = x - x.mean(axis=(1, 2, 3), keepdims=True)
    elif mode == "pixel_mean":
        x = x - pixel_mean
    elif mode != "unit":
        raise ValueError(f"unknown normalization {mode!r}; expected one of {NORMALIZATIONS}")
    return x


def training_pixel_mean(x_train) -> np.ndarray:
    return (np.asarray(x_train, np.float32) / 255.0).mean(axis=0)


def input_normalization(mixing: str, requested: str | None = None) -> str:
    """BC+ is defined on zero-mean images, so it fixes its own normalization
    (and refuses another that would not be applied alike to the held-out
    images); otherwise the spec's choice (default unit)."""
    if mixing == "bc_plus":
        if requested not in (None, "unit", "zero_mean"):
            raise ValueError(f"BC+ mixing trains on zero-mean images; input {requested!r} "
                             "cannot be applied to its training batches alike")
        return "zero_mean"
    if requested is not None and requested not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {requested!r}; expected one of {NORMALIZATIONS}")
    return requested or "unit"


def normalize_mixed(mixed: np.ndarray, mode: str, pixel_mean=None) -> np.ndarray:
    """``mode`` applied to a batch mixed from unit-scaled images. mixup's and
    BC's mixes are weighted sums whose weights add to one, so removing a
    constant (the training pixel mean) or each image's own mean after mixing
    equals mixing images normalized that way: the training batches get what
    the held-out images get."""
    if mode == "pixel_mean":
        return mixed - pixel_mean
    if mode == "zero_mean":
        return mixed - mixed.mean(axis=(1, 2, 3), keepdims=True)
    return mixed


class MixingBatches(keras.utils.PyDataset):
    """Batches of ``batch_size`` samples built from groups of ``step_size``
    anchors (the article's BC generator): each epoch walks a fresh permutation
    of the training set one anchor group at a time, applies standard DA to the
    group, then mixes every anchor ``batch_size // step_size`` times.

    Without mixing, ``step_size`` equals ``batch_size`` and a batch is just the
    (augmented) group. Incomplete trailing groups are dropped, as the article's
    generators do. ``shift_after_mixing`` > 0 flips and shifts the finished
    (mixed, normalized) batch instead, by up to that many pixels.
    """

    def __init__(self, x, y, *, batch_size: int, step_size: int | None = None,
                 mixing: str = "none", standard_da: bool = False, max_shift: int = 4,
                 alpha: float = 0.2, normalization: str | None = None, seed: int = 0,
                 epoch: int = 0, target_smoothing: float = 0.0, shift_after_mixing: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        step_size = step_size or batch_size
        if mixing not in MIXINGS:
            raise ValueError(f"unknown mixing {mixing!r}; expected one of {MIXINGS}")
        if batch_size % step_size:
            raise ValueError(f"batch_size {batch_size} is not a multiple of step_size {step_size}")
        if mixing in ("none", "mixup") and step_size != batch_size:
            raise ValueError("step_size only applies to BC mixing")
        if len(x) < step_size:
            raise ValueError(f"training set of {len(x)} is smaller than one group of {step_size}")
        self.x, self.y = x, np.asarray(y).reshape(-1)
        self.batch_size, self.step_size = batch_size, step_size
        self.repeats = batch_size // step_size
        self.mixing, self.standard_da, self.max_shift = mixing, standard_da, max_shift
        if not 0.0 <= target_smoothing < 1.0:
            raise ValueError(f"target_smoothing {target_smoothing} must be in [0, 1)")
        self.alpha, self.seed, self.epoch = alpha, seed, epoch
        self.target_smoothing = target_smoothing
        self.shift_after_mixing = shift_after_mixing
        self.norm = input_normalization(mixing, normalization)
        self.pixel_mean = training_pixel_mean(x) if self.norm == "pixel_mean" else None
        self.set_epoch(epoch)

    def _permutation(self):
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def _partner_permutation(self):
        """mixup's second image of each pair: an independent permutation, so an
        epoch has as many steps as without mixup and every image is used once
        on each side of a pair (the articles' generator drew both from one
        shuffled double batch)."""
        return np.random.default_rng([self.seed, self.epoch, 2]).permutation(len(self.x))

    def __len__(self):
        return len(self.x) // self.step_size

    def __getitem__(self, index):
        return self.batch(index)[:2]

    def batch(self, index):
        """``(images, soft_labels, info)``; ``info`` holds the raw group and the
        mixing draw for plotting. With ``target_smoothing`` a, the targets are
        smoothed as Keras's ``label_smoothing`` does it, y (1 - a) + a / K, but
        here in the data, so that any loss (KL divergence too) sees them."""
        images, targets, info = self._mixed_batch(index)
        if self.shift_after_mixing:
            # the Keras example's DA (flip + shift, nearest fill) on the finished,
            # mixed batch, as its generator applies it; whole-pixel shifts here
            rng = np.random.default_rng([self.seed, self.epoch, index, 3])
            images = augment.flip_and_shift(images, rng, self.shift_after_mixing)
        if self.target_smoothing:
            a = self.target_smoothing
            targets = targets * (1.0 - a) + a / targets.shape[-1]
        return images, targets, info

    def _mixed_batch(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index, 1])
        idx = self._order[index * self.step_size:(index + 1) * self.step_size]
        images, labels = self.x[idx], self.y[idx]
        if self.standard_da:
            images = augment.flip_and_shift(images, rng, self.max_shift)
        info = {"images": images, "labels": labels}
        if self.mixing == "none":
            return (normalize(images, self.norm, self.pixel_mean), augment.one_hot(labels), info)
        if self.mixing == "mixup":
            jdx = self._partners[index * self.step_size:(index + 1) * self.step_size]
            x2, y2 = self.x[jdx], self.y[jdx]
            if self.standard_da:
                x2 = augment.flip_and_shift(x2, rng, self.max_shift)
            mixed, soft, lam = augment.mixup(normalize(images), augment.one_hot(labels),
                                             normalize(x2), augment.one_hot(y2), rng, self.alpha)
            info.update(partner_images=x2, partner_labels=y2, lam=lam)
            return normalize_mixed(mixed, self.norm, self.pixel_mean), soft, info
        mix = augment.bc_mix if self.mixing == "bc" else augment.bc_plus_mix
        x = normalize(images, "unit")
        mixed, soft, r, partners = mix(x, labels, rng, repeats=self.repeats)
        info.update(r=r, partners=partners)
        if self.mixing == "bc":   # BC+ returns zero-mean mixes itself
            mixed = normalize_mixed(mixed, self.norm, self.pixel_mean)
        return mixed, soft, info

    def set_epoch(self, epoch: int):
        """The trainer sets the epoch explicitly before each one (and on resume)
        rather than relying on ``on_epoch_end``, whose timing relative to
        prefetching workers is not something to build on."""
        self.epoch = epoch
        self._order = self._permutation()
        if self.mixing == "mixup":
            self._partners = self._partner_permutation()
