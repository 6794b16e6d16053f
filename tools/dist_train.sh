#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCESSES [train.py arguments...]
# Starts NUM_PROCESSES training processes on this machine with torchrun
# (NNODES, NODE_RANK, MASTER_ADDR and PORT select a multi-node run; PYTHON
# selects the interpreter).
set -euo pipefail
USAGE="usage: $0 CONFIG NUM_PROCESSES [train.py arguments...]"
if [ $# -lt 2 ]; then
    echo "$USAGE" >&2
    echo "$0: error: expected CONFIG and NUM_PROCESSES, got $# argument(s)" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
if ! [[ $NPROC =~ ^[1-9][0-9]*$ ]]; then
    echo "$USAGE" >&2
    echo "$0: error: NUM_PROCESSES must be a positive integer, got '$NPROC'" >&2
    exit 2
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
TOOLS_DIR=$(dirname "$0")
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$TOOLS_DIR/train.py" "$CONFIG" --launcher pytorch "${@:3}"
