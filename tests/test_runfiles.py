"""lib.runfiles and the run cache: damaged files of a run directory are
detected, reported with the run id and the file, never loaded as a result,
and the run is recomputed by one command."""

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import TINY_SPEC, make_tiny_data

from lib import cli
from lib.campaign import cache, compute
from lib.store import runfiles
from lib.store.runfiles import CorruptRunError


class Interrupt(Exception):
    pass


def _train(spec, data, stop_after=None):
    def stop(epoch):
        if epoch == stop_after:
            raise Interrupt
    try:
        cache.ensure(spec, "smoke", data=data, jit_compile=False, log=lambda s: None,
                    after_epoch=stop)
    except Interrupt:
        pass
    return cache.run_dir(spec, "smoke")


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The tiny run trained once for the module, finished and stopped after
    epoch 2; each test damages its own copy."""
    saved = os.environ.get("ABLATION_RESULTS_DIR")
    os.environ["ABLATION_RESULTS_DIR"] = str(tmp_path_factory.mktemp("templates"))
    try:
        data = make_tiny_data()
        return {"finished": _train(TINY_SPEC, data),
                "unfinished": _train({**TINY_SPEC, "seed": 1}, data, stop_after=2)}
    finally:
        if saved is None:
            del os.environ["ABLATION_RESULTS_DIR"]
        else:
            os.environ["ABLATION_RESULTS_DIR"] = saved


def _copy(template: Path, spec: dict) -> Path:
    d = cache.run_dir(spec, "smoke")
    shutil.copytree(template, d)
    return d


@pytest.fixture
def finished(templates, tiny_spec):
    """A finished tiny run in this test's results folder: its directory."""
    return _copy(templates["finished"], tiny_spec)


def _cut(path, keep: float):
    text = path.read_text()
    path.write_text(text[: int(len(text) * keep)])


# detecting damage is file handling: once is enough (the unfinished-run cases below,
# which resume a checkpoint, run under both backends)
@pytest.mark.backend_free
@pytest.mark.parametrize("damage, file, reason", [
    (lambda d: _cut(d / "history.csv", 0.8), "history.csv", "fields"),       # mid-row
    (lambda d: (d / "history.csv").write_text(
        "\n".join((d / "history.csv").read_text().splitlines()[:2]) + "\n"),
     "history.csv", "1 epochs where metrics.json records 3"),                 # at a row end
    (lambda d: (d / "history.csv").write_text("\x00\x00garbage"), "history.csv", "lacks"),
    (lambda d: (d / "history.csv").write_text(
        (d / "history.csv").read_text().replace("\n2,", "\n1,", 1)),
     "history.csv", "not 1..3"),                                              # an epoch twice
    (lambda d: _cut(d / "metrics.json", 0.5), "metrics.json", "not valid JSON"),
    (lambda d: (d / "metrics.json").write_text("{}"), "metrics.json", "lacks"),
    (lambda d: _cut(d / "spec.json", 0.5), "spec.json", "not valid JSON"),
])
def test_damaged_finished_run_is_reported_never_loaded(finished, tiny_spec, damage, file,
                                                       reason, capsys):
    damage(finished)
    rid = finished.name
    with pytest.raises(CorruptRunError) as err:
        cache.ensure(tiny_spec, "smoke", log=lambda s: None)
    assert err.value.file == file and reason in err.value.reason
    message = str(err.value)
    assert rid in message and file in message
    assert f"python -m lib compute <notebook> --profile smoke --recompute {rid}" in message
    assert cli.main(["list", "--profile", "smoke"]) == 0
    assert f"{rid}  " in (out := capsys.readouterr().out) and "corrupt" in out


@pytest.mark.backend_free
def test_recompute_clears_a_corrupt_run_and_trains_it_again(finished, tiny_spec, tiny_data):
    _cut(finished / "metrics.json", 0.5)
    cache.recompute([finished.name], "smoke", log=lambda s: None)
    assert list(finished.iterdir()) == []
    run = cache.ensure(tiny_spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert run["history"]["epoch"].tolist() == [1, 2, 3]


@pytest.mark.backend_free
def test_cli_recompute_option_clears_before_computing(finished, tiny_data, monkeypatch):
    """``compute --recompute ID`` clears the run, then computes the notebook."""
    calls = []
    monkeypatch.setattr(compute, "ensure_all", lambda *a, **k: calls.append(
        sorted(p.name for p in finished.iterdir())) or __import__("pandas").DataFrame())
    _cut(finished / "history.csv", 0.5)
    assert cli.main(["compute", "bc_learning", "--profile", "smoke",
                      "--recompute", finished.name]) == 0
    assert calls == [[]]


@pytest.mark.parametrize("damage, file", [
    (lambda d: _cut(d / "checkpoint" / "state.json", 0.5), "state.json"),
    (lambda d: (d / "checkpoint" / "state.json").write_text('{"epochs_done": 2}'), "state.json"),
    (lambda d: (d / "history.csv").write_text(
        (d / "history.csv").read_text().splitlines()[0] + "\n"), "history.csv"),
    (lambda d: [p.unlink() for p in (d / "checkpoint").glob("*.keras")], "state.json"),
])
def test_damaged_unfinished_run_is_not_resumed(templates, tiny_spec, tiny_data, damage, file):
    spec = {**tiny_spec, "seed": 1}
    d = _copy(templates["unfinished"], spec)
    damage(d)
    with pytest.raises(CorruptRunError) as err:
        cache.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert err.value.file.endswith(file) and d.name in str(err.value)
    assert not cache.is_finished(d)


def test_history_rows_beyond_the_checkpoint_are_dropped_on_resume(templates, tiny_spec,
                                                                   tiny_data):
    """A kill between writing history and state leaves one row too many: the
    resumed run trains that epoch again, so it appears once."""
    spec = {**tiny_spec, "seed": 1}
    d = _copy(templates["unfinished"], spec)
    state = json.loads((d / "checkpoint" / "state.json").read_text())
    rows = runfiles.read_history(d / "history.csv")
    runfiles.write_history(d / "history.csv", rows + [{**rows[-1], "epoch": 3}])
    assert runfiles.read_state(d)[0] == state
    run = cache.ensure(spec, "smoke", data=tiny_data, jit_compile=False, log=lambda s: None)
    assert run["history"]["epoch"].tolist() == [1, 2, 3]
    assert run["history"]["lr"].tolist() == pytest.approx([0.01, 0.01, 0.005])  # not the copy
