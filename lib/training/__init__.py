"""Layer 1, training: a run spec and its id, the data, the input pipeline
and its augmentation and mixing, models, losses, schedules, and ``train.fit``
which trains one spec into one run directory. Imports only ``lib.store``."""
