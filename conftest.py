"""Repository-wide pytest setup: notebooks run by nbval use the smoke profile
and write into a temporary results folder, never into committed results."""
import os
import tempfile

# set, not defaulted: a shell that exports a large profile or the real results
# root must not make the test suite train it or write there
os.environ["ABLATION_PROFILE"] = "smoke"
os.environ["ABLATION_RESULTS_DIR"] = tempfile.mkdtemp(prefix="ablation-results-")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
