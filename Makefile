# CIFAR-10 ablation notebooks.  `make all` and `make test` are the two entry points;
# both bootstrap the virtual environment from requirements.txt on first use.
# the lists of notebooks and profiles live in lib/campaign/names.py (standard library only)
NAMES   := python3 -m lib.campaign.names
PROFILE ?= $(shell $(NAMES) default-profile)
VENV    ?= .venv
PY      := $(VENV)/bin/python
NOTEBOOKS := $(shell $(NAMES) notebooks)
RESULTS := $(or $(ABLATION_RESULTS_DIR),results)

# The offline CIFAR-10 copy kept beside the project, when there is one.
SHARED_CIFAR := $(abspath ../shared/datasets/cifar10-jpeg.tar.gz)
ifneq ($(wildcard $(SHARED_CIFAR)),)
export CIFAR10_PATH ?= $(SHARED_CIFAR)
endif
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: all notebooks setup test unit unit-jax plan calibrate bench device-prep $(NOTEBOOKS) index claims list clean lab
.DEFAULT_GOAL := all

# The notebooks' kernel (their metadata names it) runs this venv's Python. It is
# registered only inside the venv (--sys-prefix), where a Jupyter run from the venv
# (`make lab`) looks first: each clone has its own, and deleting a clone deletes it.
# A Jupyter started elsewhere does not see it (docs/operations.md, "Kernels").
KERNEL         := cifar10-ablation
KERNEL_DISPLAY := CIFAR-10 ablation ($(notdir $(CURDIR)))

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# make `import lib` work from notebooks started anywhere with this venv's kernel
	echo "$(CURDIR)" > "$$($(PY) -c 'import site; print(site.getsitepackages()[0])')/ablation-repo.pth"
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "$(KERNEL_DISPLAY)"
	touch $@

setup: $(VENV)/.installed

lab: setup                         ## JupyterLab on notebooks/ with the project's kernel
	$(PY) -m jupyterlab --notebook-dir=notebooks --MappingKernelManager.default_kernel_name=$(KERNEL) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

# notebooks render in parallel (each is mostly one process's start-up and drawing);
# JOBS=1 runs them one after another
JOBS ?= 2
all:                               ## every notebook of PROFILE, the claims ledger, then results/PROFILE/README.md
	$(MAKE) --no-print-directory -j$(JOBS) notebooks
	$(MAKE) --no-print-directory claims
	$(MAKE) --no-print-directory index

# the notebooks that have a params/<notebook>/PROFILE.yaml
PROFILE_NOTEBOOKS := $(foreach n,$(NOTEBOOKS),$(if $(wildcard params/$(n)/$(PROFILE).yaml),$(n)))
notebooks: $(PROFILE_NOTEBOOKS)

# What the GPU machine lacks (it has JAX, no TensorFlow, no Keras, no internet): Keras's
# wheels for its Python 3.12 and the offline CIFAR-10, both git-ignored; see docs/operations.md.
DEVICE_WHEELS := keras==3.15.1 namex==0.1.0 optree==0.20.0
device-prep:                       ## .whl/ and .data/ to carry to the GPU machine
	python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
		--implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
		--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl $(DEVICE_WHEELS)
	mkdir -p .data && cp $(CIFAR10_PATH) .data/cifar10-jpeg.tar.gz

# TRAIN=False renders from the finished runs only (a campaign under way trains the rest)
TRAIN ?= True
$(NOTEBOOKS): setup                ## one notebook: papermill into results/PROFILE/<name>.ipynb
	mkdir -p $(RESULTS)/$(PROFILE)
	$(PY) -m papermill -k python3 --cwd notebooks --log-output -p profile $(PROFILE) -p train $(TRAIN) \
		notebooks/$@.ipynb $(RESULTS)/$(PROFILE)/$@.ipynb

index: setup                       ## results/PROFILE/README.md: the ledger, then every table and figure
	$(PY) -m lib index --profile $(PROFILE)

# the ledger of the default profile also fills the README's "What we found"
claims: setup                      ## results/PROFILE/claims.{csv,md} from the finished runs (trains nothing)
	$(PY) -m lib claims --profile $(PROFILE) $(if $(filter $(PROFILE),$(shell $(NAMES) default-profile)),--readme)

test: setup                        ## unit tests + nbval (smoke) on TensorFlow, then the unit tests on JAX
	$(PY) -m pytest
	$(MAKE) --no-print-directory unit-jax

unit: setup                        ## unit tests only (default backend: TensorFlow)
	$(PY) -m pytest tests

unit-jax: setup                    ## unit tests under KERAS_BACKEND=jax (CPU), those a backend computes in
	KERAS_BACKEND=jax $(PY) -m pytest tests -m "not backend_free"

# sustained training rate of the GPU to plan for, TFLOP/s (a guess: say yours)
TFLOPS ?= 300
plan: setup                        ## what PROFILE costs: runs, EFLOP, hours here (XLA=on|off: as trained) and at TFLOPS
	$(PY) -m lib plan all --profile $(PROFILE) --tflops $(TFLOPS) --totals $(if $(XLA),--xla $(XLA))

calibrate: setup                   ## budget calibration: images/s of each candidate configuration -> results/PROFILE/tables
	$(PY) -m lib calibrate --profile $(PROFILE)

bench: setup                       ## throughput of pipeline, training step and the article's way -> results/bench
	$(PY) -m lib bench

list: setup                        ## cached runs
	$(PY) -m lib list

clean:                             ## the smoke profile's results (its runs too) and every resume checkpoint
	rm -rf $(RESULTS)/smoke
	find $(RESULTS) -type d -name checkpoint -prune -exec rm -rf {} +
