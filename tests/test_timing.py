"""lib.timing: measurements rank models and are cached, never re-measured."""

import pandas as pd

from lib.measure import timing


def test_inference_latency_is_measured_per_call_and_ranks_models():
    # compiled, as the notebook measures it: uncompiled, per-op dispatch (~13 ms under
    # JAX on CPU) would drown the compute that separates the two models
    lat = timing.measure_inference_latency({"small": {"name": "cnn10", "width": 2},
                                   "big": {"name": "cnn10", "width": 64}},
                                  repeats=15, warmup=3, jit_compile=True)
    assert len(lat) == 30 and (lat["seconds"] > 0).all()
    s = timing.latency_summary(lat).set_index("model")
    assert s.loc["big", "params"] > 100 * s.loc["small", "params"]
    assert s.loc["small", "latency_ms_p10"] <= s.loc["small", "latency_ms_median"] <= \
        s.loc["small", "latency_ms_p90"]
    assert s.loc["big", "latency_ms_median"] > s.loc["small", "latency_ms_median"]


def test_timings_are_measured_once_then_read_from_the_results_folder(monkeypatch):
    calls = []

    def fake(*args):
        calls.append(args)
        return pd.DataFrame([{"model": "a", "call": 0, "seconds": 0.002, "params": 10}])

    monkeypatch.setattr(timing, "measure_inference_latency", fake)
    cfg = {"a": {"name": "cnn10", "width": 2}}
    first = timing.inference_latency(cfg, "smoke", repeats=5, warmup=1)
    again = timing.inference_latency(cfg, "smoke", repeats=5, warmup=1)
    assert len(calls) == 1                       # the second call read the file
    pd.testing.assert_frame_equal(first, again)
    other = timing.inference_latency(cfg, "smoke", repeats=6, warmup=1)
    assert len(calls) == 2 and len(other) == 1   # a different request is measured anew
    (where,) = {m["kind"] for m in timing.measured_on("smoke")}
    assert where == "inference_latency" and timing.measured_on("smoke")[0]["cpu"]
    # the text shown beside a timing names the host as precisely as it was recorded
    from lib.store import runfiles
    assert first.attrs["measured_on"].startswith(" ".join(filter(None, (runfiles.cpu_model(),
                                                                          runfiles.cpu_id()))))


def test_training_time_times_every_model_each_round():
    t = timing.measure_training_time({"a": {"name": "cnn10", "width": 2},
                                      "b": {"name": "cnn10", "width": 4}},
                                     batch_size=8, batches=2, repeats=2, jit_compile=False)
    assert sorted(zip(t["model"], t["round"])) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert (t["seconds_per_batch"] > 0).all()
    assert (t["seconds_per_epoch"] == t["seconds_per_batch"] * 50_000 / 8).all()
