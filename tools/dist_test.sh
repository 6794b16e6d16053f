#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCESSES [test.py arguments...]
# Starts NUM_PROCESSES test processes on this machine with torchrun
# (NNODES, NODE_RANK, MASTER_ADDR and PORT select a multi-node run; PYTHON
# selects the interpreter).
set -euo pipefail
USAGE="usage: $0 CONFIG CHECKPOINT NUM_PROCESSES [test.py arguments...]"
if [ $# -lt 3 ]; then
    echo "$USAGE" >&2
    echo "$0: error: expected CONFIG, CHECKPOINT and NUM_PROCESSES, got $# argument(s)" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
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
    "$TOOLS_DIR/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
