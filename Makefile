# CIFAR-10 ablation notebooks.  `make all` and `make test` are the two entry points;
# both bootstrap the virtual environment from requirements.txt on first use.
PROFILE ?= quick
VENV    ?= .venv
PY      := $(VENV)/bin/python
NOTEBOOKS := bc_learning resnet_ablation natural_artificial_loss mixup_baseline
RESULTS := $(or $(ABLATION_RESULTS_DIR),results)

# The offline CIFAR-10 copy kept beside the project, when there is one.
SHARED_CIFAR := $(abspath ../shared/datasets/cifar10-jpeg.tar.gz)
ifneq ($(wildcard $(SHARED_CIFAR)),)
export CIFAR10_PATH ?= $(SHARED_CIFAR)
endif
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: all setup test unit $(NOTEBOOKS) index list clean
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

test: setup                        ## unit tests + nbval of every notebook at smoke scale
	$(PY) -m pytest

unit: setup                        ## unit tests only
	$(PY) -m pytest tests

list: setup                        ## cached runs
	$(PY) -m lib.runs list

clean:                             ## executed smoke results and resume checkpoints (never finished runs)
	rm -rf results/smoke
	find results -type d -name checkpoint -prune -exec rm -rf {} +
