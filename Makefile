# CIFAR-10 ablation notebooks.  `make all` and `make test` are the two entry points;
# both bootstrap the virtual environment from requirements.txt on first use.
PROFILE ?= quick
VENV    ?= .venv
PY      := $(VENV)/bin/python
NOTEBOOKS := bc_learning resnet_ablation natural_artificial_loss mixup_baseline training_tricks
RESULTS := $(or $(ABLATION_RESULTS_DIR),results)

# The offline CIFAR-10 copy kept beside the project, when there is one.
SHARED_CIFAR := $(abspath ../shared/datasets/cifar10-jpeg.tar.gz)
ifneq ($(wildcard $(SHARED_CIFAR)),)
export CIFAR10_PATH ?= $(SHARED_CIFAR)
endif
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: all setup test unit unit-jax bench $(NOTEBOOKS) index list clean
.DEFAULT_GOAL := all

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# make `import lib` work from notebooks started anywhere with this venv's kernel
	echo "$(CURDIR)" > "$$($(PY) -c 'import site; print(site.getsitepackages()[0])')/ablation-repo.pth"
	touch $@

setup: $(VENV)/.installed

all: $(NOTEBOOKS) index            ## every notebook of PROFILE, then results/PROFILE/README.md

$(NOTEBOOKS): setup                ## one notebook: papermill into results/PROFILE/<name>.ipynb
	mkdir -p $(RESULTS)/$(PROFILE)
	$(PY) -m papermill --cwd notebooks --log-output -p profile $(PROFILE) \
		notebooks/$@.ipynb $(RESULTS)/$(PROFILE)/$@.ipynb

index: setup
	$(PY) -m lib.report $(PROFILE)

test: setup                        ## unit tests + nbval (smoke) on TensorFlow, then the unit tests on JAX
	$(PY) -m pytest
	$(MAKE) --no-print-directory unit-jax

unit: setup                        ## unit tests only (default backend: TensorFlow)
	$(PY) -m pytest tests

unit-jax: setup                    ## unit tests under KERAS_BACKEND=jax (CPU)
	KERAS_BACKEND=jax $(PY) -m pytest tests

bench: setup                       ## throughput of pipeline, training step and the article's way -> results/bench
	$(PY) -m lib.throughput

list: setup                        ## cached runs
	$(PY) -m lib.runs list

clean:                             ## executed smoke results and resume checkpoints (never finished runs)
	rm -rf results/smoke
	find results -type d -name checkpoint -prune -exec rm -rf {} +
