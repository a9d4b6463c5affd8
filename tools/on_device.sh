#!/usr/bin/env bash
# Run a command on the GPU machine (JAX and PyTorch, no TensorFlow, no internet):
# install the wheels `make device-prep` put in .whl/, point the data loader at
# the carried CIFAR-10 copy, select the JAX backend, then run "$@".
#   e.g.  bash tools/on_device.sh python3 -m lib compute bc_learning --profile paper
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export CIFAR10_PATH="${CIFAR10_PATH:-$PWD/.data/cifar10-jpeg.tar.gz}"
python3 -c "import jax, keras; print('keras', keras.__version__, 'on', keras.backend.backend(), jax.devices())"
exec "$@"
