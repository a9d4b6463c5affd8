import io
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from lib.training import data

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free

data_lib = data


def _png(value):
    buf = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _make_tarball(path, n_train=3, n_test=2, skip_class=None):
    with tarfile.open(path, "w:gz") as tar:
        for split, n in (("train", n_train), ("test", n_test)):
            for c, cls in enumerate(data.CLASSES):
                if cls == skip_class and split == "train":
                    continue
                for i in range(n):
                    blob = _png(10 * c + i)   # pixel value encodes class and index
                    info = tarfile.TarInfo(f"{split}/{cls}/{i:04d}.png")
                    info.size = len(blob)
                    tar.addfile(info, io.BytesIO(blob))
    return path


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "cache"))
    data._MEMORY.clear()


def test_tarball_loads_in_class_order(tmp_path, monkeypatch):
    tgz = _make_tarball(tmp_path / "c10.tar.gz")
    monkeypatch.setenv("CIFAR10_PATH", str(tgz))
    xtr, ytr, xte, yte = data.load_cifar10()
    assert xtr.shape == (30, 32, 32, 3) and xtr.dtype == np.uint8
    assert xte.shape == (20, 32, 32, 3)
    assert ytr.tolist() == [c for c in range(10) for _ in range(3)]
    # pixel value 10*c + i survives the round trip, so images match labels
    assert [int(x[0, 0, 0]) for x in xtr[:4]] == [0, 1, 2, 10]


def test_decoded_once_then_cached_on_disk(tmp_path, monkeypatch):
    tgz = _make_tarball(tmp_path / "c10.tar.gz")
    first = data.load_cifar10(tgz)
    assert list((tmp_path / "cache").glob("cifar10-*.npz"))
    data._MEMORY.clear()
    monkeypatch.setattr(data, "_decode", lambda p: pytest.fail("decoded again"))
    second = data.load_cifar10(tgz)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_folder_npz_and_batches_py_sources(tmp_path):
    tgz = _make_tarball(tmp_path / "c10.tar.gz")
    with tarfile.open(tgz) as tar:
        tar.extractall(tmp_path / "folder")
    ref = data.load_cifar10(tgz)
    from_folder = data.load_cifar10(tmp_path / "folder")
    np.savez(tmp_path / "c10.npz", x_train=ref[0], y_train=ref[1], x_test=ref[2], y_test=ref[3])
    from_npz = data.load_cifar10(tmp_path / "c10.npz")
    bdir = tmp_path / "cifar-10-batches-py"
    bdir.mkdir()
    chunks = np.array_split(np.arange(len(ref[0])), 5)
    for i, idx in enumerate(chunks, 1):
        flat = ref[0][idx].transpose(0, 3, 1, 2).reshape(len(idx), -1)
        (bdir / f"data_batch_{i}").write_bytes(pickle.dumps(
            {b"data": flat, b"labels": ref[1][idx].tolist()}))
    (bdir / "test_batch").write_bytes(pickle.dumps(
        {b"data": ref[2].transpose(0, 3, 1, 2).reshape(len(ref[2]), -1),
         b"labels": ref[3].tolist()}))
    from_batches = data.load_cifar10(bdir)
    for other in (from_folder, from_npz, from_batches):
        for a, b in zip(ref, other):
            np.testing.assert_array_equal(a, b)


def test_missing_path_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "nowhere.tar.gz"))
    with pytest.raises(data.DataError, match="CIFAR10_PATH"):
        data.load_cifar10()


def test_unbalanced_or_missing_class_is_rejected(tmp_path):
    tgz = _make_tarball(tmp_path / "c10.tar.gz", skip_class="cat")
    with pytest.raises(data.DataError, match="unbalanced"):
        data.load_cifar10(tgz)


def test_first_of_each_class_picks_one_image_per_class_in_class_order():
    y = np.array([3, 3, 0, 0, 7, 3, 0, 5])          # stored unordered, with repeats
    assert data.first_of_each_class(y) == [2, 0, 7, 4]
    assert data.first_of_each_class(y.reshape(-1, 1), 2) == [2, 0]   # (n, 1) labels too


def test_stratified_subset_is_balanced_and_seeded():
    y = np.repeat(np.arange(10), 50)
    x = np.arange(500)[:, None]
    xs, ys = data.stratified_subset(x, y, 100, seed=3)
    assert np.bincount(ys).tolist() == [10] * 10
    assert (y[xs[:, 0]] == ys).all()                 # images stay with their labels
    xs2, _ = data.stratified_subset(x, y, 100, seed=3)
    xs3, _ = data.stratified_subset(x, y, 100, seed=4)
    assert (xs == xs2).all() and not (xs == xs3).all()
    assert data.stratified_subset(x, y, None)[0] is x


def test_validation_split_is_stratified_and_disjoint():
    y = np.repeat(np.arange(10), 30)
    x = np.arange(len(y))   # image i is just its index
    xr, yr, xv, yv = data_lib.split_validation(x, y, 50, seed=0)
    assert len(xv) == 50 and len(xr) == 250
    assert np.bincount(yv, minlength=10).tolist() == [5] * 10
    assert set(xv).isdisjoint(xr) and set(xv) | set(xr) == set(x)
    with pytest.raises(ValueError, match="validation size"):
        data_lib.split_validation(x, y, 5)
