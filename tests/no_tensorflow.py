"""Imported first in a subprocess, makes ``import tensorflow`` fail as it does
on a machine without TensorFlow (the GPU machine). Putting ``None`` into
``sys.modules`` instead would not do: Keras reads a ``tensorflow`` key there
as "TensorFlow is loaded" and then tries to use it."""

import importlib.abc
import sys


class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked for this test)")
        return None


sys.meta_path.insert(0, _NoTensorFlow())
