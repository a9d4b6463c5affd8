"""CIFAR-10 ablation library. Importing it keeps TensorFlow's start-up log
lines out of notebook outputs, at their sources:

- ``TF_CPP_MIN_LOG_LEVEL`` defaults to 2 (C++ INFO and WARNING lines such as
  the oneDNN and CPU-instruction notices), set before TensorFlow loads.
- TensorFlow's CUDA stub logs "Could not find cuda drivers" through absl
  *before* absl logging is initialised, so no log level reaches it, and the
  first device query logs "failed call to cuInit" at ERROR level on machines
  without a GPU. The first ``import tensorflow`` therefore runs with the
  process's stderr (file descriptor 2) captured, together with that first
  device query; afterwards every captured line that is not one of these
  known start-up messages is written back to stderr.
- absl's and TensorFlow's Python loggers are set to ERROR, and the one known harmless Python
  warning is filtered by message, category and module (``_HARMLESS_WARNINGS``).

TensorFlow is still imported lazily: nothing here imports it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Start-up lines of TensorFlow on a machine without a usable GPU.
_STARTUP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|cudart_stub\.cc:\d+\] Could not find cuda drivers"
    r"|cuda_platform\.cc:\d+\] failed call to cuInit"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation_placer\.cc:\d+\] computation placer already registered"
    # AVX-512 hosts, where TensorFlow turns oneDNN on by default, say so at start-up
    r"|port\.cc:\d+\] oneDNN custom operations are on")

#: (message regex, category, module regex) of Python warnings known to be harmless here.
_HARMLESS_WARNINGS = (
    # Keras checks for a one-column y_pred in categorical_crossentropy; the article's
    # literal multiple-softmax loss (kept on purpose, to show its bug; the
    # natural_artificial_loss notebook explains it) is exactly that.
    (r"In loss categorical_crossentropy, expected y_pred\.shape to be \(batch_size, num_classes\) "
     r"with num_classes > 1", SyntaxWarning, r"lib\.losses"),
)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Runs the first ``import tensorflow`` (and its first device query)
    with file descriptor 2 captured; see the module docstring."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)          # once; the real finders do the work
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def quiet_exec(module):
            with _captured_stderr():
                exec_module(module)
                try:
                    module.config.list_physical_devices()   # the cuInit message
                except Exception:   # pragma: no cover - a broken install shows itself later
                    pass

        loader.exec_module = quiet_exec
        return spec


class _captured_stderr:
    def __enter__(self):
        try:
            sys.stderr.flush()
        except Exception:
            pass
        self.file = tempfile.TemporaryFile()
        self.saved = os.dup(2)
        os.dup2(self.file.fileno(), 2)

    def __exit__(self, *exc):
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        text = self.file.read().decode(errors="replace")
        self.file.close()
        kept = [line for line in text.splitlines(keepends=True) if not _STARTUP_NOISE.search(line)]
        if kept:
            os.write(2, "".join(kept).encode())
        return False


def _install() -> None:
    if "tensorflow" not in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" \
            and not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
    try:
        from absl import logging as absl_logging
        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:   # absl comes with TensorFlow and JAX
        pass
    # TensorFlow's Python logger warns of tf.function retracing whenever a process
    # builds several models (timings, calibration): expected here, not a problem
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    for message, category, module in _HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


_install()
