"""Repository-wide pytest setup: notebooks run by nbval use the smoke profile
and write into a temporary results folder, never into committed results."""
import os
import tempfile

os.environ.setdefault("ABLATION_PROFILE", "smoke")
os.environ.setdefault("ABLATION_RESULTS_DIR", tempfile.mkdtemp(prefix="ablation-results-"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
