"""Running a test's function on two CPU processes joined by gloo."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import torch
import torch.distributed as torch_dist

#: Every multi-process test runs two ranks.
WORLD_SIZE = 2


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@contextmanager
def gloo_process_group(rank: int, port: int) -> Iterator[None]:
    """This process as ``rank`` of a WORLD_SIZE-process gloo group (one
    intra-op thread each: the machine has two cores)."""
    torch.set_num_threads(1)
    torch_dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=timedelta(seconds=60),
    )
    try:
        yield
    finally:
        torch_dist.destroy_process_group()
