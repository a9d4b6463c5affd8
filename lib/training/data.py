"""CIFAR-10 loading: one function, several sources, decoded once and cached.

Sources, in order of preference:

* ``CIFAR10_PATH`` pointing at
  - an ``.npz`` with ``x_train, y_train, x_test, y_test``,
  - a ``cifar-10-batches-py`` folder (the official Python pickles),
  - a folder or ``.tar.gz`` of ``train|test/<class>/*.png|jpg`` images;
* otherwise ``keras.datasets.cifar10.load_data()`` (needs internet).

Decoded arrays are cached as ``.npz`` under ``CIFAR10_CACHE_DIR`` (default
``~/.cache/cifar10-ablation``), keyed by the source's path, size and mtime,
and in memory for the life of the process.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")
NUM_CLASSES = len(CLASSES)
IMAGE_EXTS = (".png", ".jpg", ".jpeg")

_MEMORY: dict[str, tuple] = {}


class DataError(RuntimeError):
    """CIFAR-10 could not be loaded or failed its checks."""


def _cache_dir() -> Path:
    return Path(os.environ.get("CIFAR10_CACHE_DIR",
                               Path.home() / ".cache" / "cifar10-ablation"))


def _source_key(path: Path) -> str:
    st = path.stat()
    raw = f"{path.resolve()}|{st.st_size}|{int(st.st_mtime)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def load_cifar10(path: str | os.PathLike | None = None, *, check: bool = True):
    """Return ``(x_train, y_train, x_test, y_test)``.

    Images are uint8 NHWC (N, 32, 32, 3); labels int64 in 0..9.
    ``path`` defaults to ``$CIFAR10_PATH``; without either, Keras's
    downloader is used.
    """
    path = path if path is not None else os.environ.get("CIFAR10_PATH") or None
    if path is None:
        key = "keras-download"
        if key not in _MEMORY:
            _MEMORY[key] = _from_keras()
    else:
        p = Path(path).expanduser()
        if not p.exists():
            raise DataError(f"CIFAR10_PATH={path!s} does not exist. Point CIFAR10_PATH "
                            "at an .npz, a cifar-10-batches-py folder, or a folder/.tar.gz "
                            "of train|test/<class>/ images.")
        key = _source_key(p)
        if key not in _MEMORY:
            _MEMORY[key] = _from_disk_cached(p, key)
    arrays = _MEMORY[key]
    if check:
        check_arrays(*arrays, source=str(path or "keras.datasets.cifar10"))
    return tuple(arrays)


def _from_keras():
    try:
        import keras
        (xtr, ytr), (xte, yte) = keras.datasets.cifar10.load_data()
    except Exception as exc:  # no internet, most likely
        raise DataError(
            "CIFAR-10 could not be downloaded by keras.datasets.cifar10 "
            f"({type(exc).__name__}: {exc}). Set CIFAR10_PATH to a local copy "
            "(an .npz, a cifar-10-batches-py folder, or a folder/.tar.gz of "
            "train|test/<class>/ images).") from exc
    return xtr, ytr.reshape(-1).astype(np.int64), xte, yte.reshape(-1).astype(np.int64)


def _from_disk_cached(p: Path, key: str):
    cache = _cache_dir() / f"cifar10-{key}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return z["x_train"], z["y_train"], z["x_test"], z["y_test"]
    arrays = _decode(p)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, x_train=arrays[0], y_train=arrays[1], x_test=arrays[2], y_test=arrays[3])
    os.replace(tmp, cache)
    return arrays


def _decode(p: Path):
    if p.is_file() and p.suffix == ".npz":
        with np.load(p) as z:
            try:
                return (z["x_train"], z["y_train"].reshape(-1).astype(np.int64),
                        z["x_test"], z["y_test"].reshape(-1).astype(np.int64))
            except KeyError as exc:
                raise DataError(f"{p} lacks array {exc}; expected x_train, y_train, "
                                "x_test, y_test") from exc
    if p.is_dir() and (p / "data_batch_1").exists():
        return _from_batches_py(p)
    if p.is_dir() and (p / "cifar-10-batches-py").is_dir():
        return _from_batches_py(p / "cifar-10-batches-py")
    if p.is_dir():
        return _from_image_files(_iter_dir(p))
    if p.is_file() and (p.name.endswith(".tar.gz") or p.name.endswith(".tgz")
                        or p.suffix == ".tar"):
        with tarfile.open(p) as tar:
            return _from_image_files(_iter_tar(tar))
    raise DataError(f"CIFAR10_PATH={p} is not a recognised CIFAR-10 source (.npz, "
                    "cifar-10-batches-py folder, or folder/.tar.gz of class folders)")


def _from_batches_py(d: Path):
    def read(name):
        with open(d / name, "rb") as f:
            b = pickle.load(f, encoding="bytes")
        x = np.asarray(b[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return x, np.asarray(b[b"labels"], np.int64)
    parts = [read(f"data_batch_{i}") for i in range(1, 6)]
    xte, yte = read("test_batch")
    return (np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts]),
            xte, yte)


def _iter_dir(root: Path):
    for f in sorted(root.rglob("*")):
        if f.suffix.lower() in IMAGE_EXTS:
            yield f.relative_to(root).as_posix(), f.read_bytes()


def _iter_tar(tar: tarfile.TarFile):
    for m in tar:
        if m.isfile() and Path(m.name).suffix.lower() in IMAGE_EXTS:
            yield m.name, tar.extractfile(m).read()


def _from_image_files(items):
    """Decode ``.../(train|test)/<class>/<file>`` entries, sorted by name."""
    from PIL import Image

    found = {"train": [], "test": []}
    for name, blob in items:
        parts = Path(name).parts
        if len(parts) < 3 or parts[-3] not in found:
            continue
        split, cls = parts[-3], parts[-2]
        if cls not in CLASSES:
            raise DataError(f"unknown class folder {cls!r} in {name}; expected {CLASSES}")
        found[split].append((cls, name, blob))
    out = []
    for split in ("train", "test"):
        entries = sorted(found[split], key=lambda e: (CLASSES.index(e[0]), e[1]))
        if not entries:
            raise DataError(f"no {split}/<class>/ images found")
        x = np.stack([np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for _, _, b in entries])
        y = np.array([CLASSES.index(c) for c, _, _ in entries], np.int64)
        out += [x, y]
    return tuple(out)


def check_arrays(x_train, y_train, x_test, y_test, *, source: str = "") -> None:
    """Fail loudly if the arrays are not CIFAR-10 shaped and class balanced."""
    where = f" (from {source}; set CIFAR10_PATH to another copy)" if source else ""
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
            raise DataError(f"{name} images have shape {x.shape} dtype {x.dtype}; "
                            f"expected uint8 (N, 32, 32, 3){where}")
        if len(x) != len(y):
            raise DataError(f"{name}: {len(x)} images but {len(y)} labels{where}")
        counts = np.bincount(y, minlength=NUM_CLASSES)
        if len(counts) != NUM_CLASSES or y.min() < 0:
            raise DataError(f"{name} labels outside 0..9{where}")
        if counts.min() == 0 or counts.max() > 1.1 * counts.min():
            raise DataError(f"{name} classes are unbalanced: counts {counts.tolist()}{where}")


def stratified_subset(x, y, n: int | None, seed: int = 0):
    """A seeded subset of ``n`` examples with (near) equal counts per class.

    ``n=None`` (or ``n >= len(x)``) returns the arrays unchanged. The order is
    shuffled, so any prefix of the result is roughly balanced too.
    """
    if n is None or n >= len(x):
        return x, y
    if n < NUM_CLASSES:
        raise ValueError(f"subset size {n} is smaller than the number of classes")
    rng = np.random.default_rng(seed)
    idx = rng.permutation(_stratified_indices(y, n, rng))
    return x[idx], y[idx]


def first_of_each_class(y, k: int = 10) -> list[int]:
    """Index of the first image of each of the first ``k`` classes present in
    ``y`` (class order): a sample that shows several classes even where the
    images are stored by class."""
    y = np.asarray(y).ravel()
    return [int(np.flatnonzero(y == c)[0]) for c in np.unique(y)[:k]]


def _stratified_indices(y, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random indices of ``y``, spread evenly over the classes."""
    per_class = np.full(NUM_CLASSES, n // NUM_CLASSES)
    per_class[: n % NUM_CLASSES] += 1
    return np.concatenate([rng.permutation(np.flatnonzero(y == c))[:k]
                           for c, k in enumerate(per_class)])


def split_validation(x, y, n: int, seed: int = 0):
    """Hold out a stratified validation set of ``n`` training examples.

    Returns ``(x_rest, y_rest, x_val, y_val)``; the two parts are disjoint.
    Schedules that react to a metric (ReduceLROnPlateau) watch this set, so
    that no training decision ever looks at the test set.
    """
    if n < NUM_CLASSES or n >= len(x):
        raise ValueError(f"validation size {n} must be at least {NUM_CLASSES} and below {len(x)}")
    val = _stratified_indices(y, n, np.random.default_rng(seed))
    rest = np.setdiff1d(np.arange(len(x)), val)
    return x[rest], y[rest], x[val], y[val]


# ---------------------------------------------------------------- one run's split
_SPLITS: dict = {}


def _run_split(ds: dict) -> dict:
    key = repr(sorted(ds.items()))
    if key not in _SPLITS:
        if ds.get("name", "cifar10") != "cifar10":
            raise ValueError(f"unknown dataset {ds['name']!r}")
        xtr, ytr, xte, yte = load_cifar10()
        seed = ds.get("subset_seed", 0)
        split = {}
        if ds.get("val_subset"):   # held out first, so the training subset never overlaps it
            xtr, ytr, xv, yv = split_validation(xtr, ytr, ds["val_subset"], seed + 2)
            split["val"] = (xv, yv)
        split["train"] = stratified_subset(xtr, ytr, ds.get("train_subset"), seed)
        split["test"] = stratified_subset(xte, yte, ds.get("test_subset"), seed + 1)
        _SPLITS[key] = split
    return _SPLITS[key]


def load_data(ds: dict):
    """``(x_train, y_train, x_test, y_test)`` for a spec's ``dataset`` entry,
    memoized per process. With ``val_subset`` the validation images are left
    out of the training set."""
    split = _run_split(ds)
    return (*split["train"], *split["test"])


def load_validation(ds: dict):
    """``(x_val, y_val)`` held out of the training set, or None without
    ``val_subset`` (then nothing is loaded)."""
    return _run_split(ds)["val"] if ds.get("val_subset") else None
