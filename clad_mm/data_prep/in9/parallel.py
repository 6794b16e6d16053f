"""The process pool of the IN-9 builders (scan, write and sketch passes)."""

import multiprocessing
from collections.abc import Callable, Iterable, Sequence

import cv2
from mmengine.utils import ProgressBar


def _init_worker() -> None:
    # One process per core already; OpenCV's own threads would oversubscribe.
    cv2.setNumThreads(1)


def run_parallel(
    worker: Callable[[dict], dict],
    tasks: Sequence[dict],
    workers: int,
    show_progress: bool,
) -> Iterable[dict]:
    """Yields ``worker(task)`` for every task, in completion order.

    Args:
        worker (Callable): A module-level function (picklable).
        tasks (Sequence[dict]): Its inputs.
        workers (int): Processes; 1 runs in this process.
        show_progress (bool): Print a progress bar with ETA.

    Yields:
        dict: The results.
    """
    progress = ProgressBar(len(tasks)) if show_progress and tasks else None
    if workers == 1:
        _init_worker()
        results = map(worker, tasks)
        pool = None
    else:
        # Forked children can deadlock in OpenCV/OpenMP thread pools the
        # parent has already started (seen under pytest); spawn starts clean.
        context = multiprocessing.get_context('spawn')
        pool = context.Pool(workers, initializer=_init_worker)
        chunk = max(1, min(32, len(tasks) // (workers * 8)))
        results = pool.imap_unordered(worker, tasks, chunksize=chunk)
    try:
        for result in results:
            if progress:
                progress.update()
            yield result
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    if progress:
        print()
