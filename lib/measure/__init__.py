"""Layer 3, speed: ``check`` (every configuration of a profile trains a few
steps), the timings notebooks show, the budget calibration and the benchmark.
They share one configuration key (``lib.training.spec.configuration``) and
one way of timing in rounds (``rounds``). Imports layers 0-2 only."""
