"""Reading the next batches in threads while the current one is featurized.

A torch embedder spends its time in the forward pass, which runs in the
calling thread (the model stays in this process, on its device). Decoding
and resizing (Pillow releases the GIL for both) run in reader threads, a
few batches ahead, so that they overlap with the network instead of
alternating with it.
"""

import collections
import itertools
from concurrent.futures import ThreadPoolExecutor

from joblib import effective_n_jobs
from sklearn import config_context, get_config

__all__ = ["prefetched"]


def prefetched(read, featurize, values, batches, n_jobs, ahead=2):
    """``featurize`` of each batch read by ``read``, in order, reading ahead.

    Parameters
    ----------
    read : callable
        ``read(items, positions)``, run in a reader thread; what it raises
        (an error naming a row) is raised again here, when its batch's
        turn comes, so that the first failing row in order is the one
        reported.

    featurize : callable
        ``featurize(items, positions, read_result)``, run in the calling
        thread, in batch order.

    values : ndarray of object
        The column.

    batches : list of ndarray of int
        Positions of the rows of each batch.

    n_jobs : int or None
        Reader threads, with joblib's meaning (None is 1, -1 every core).

    ahead : int, default=2
        Batches read ahead per reader thread while one is featurized.

    Yields
    ------
    result
        ``featurize(...)`` of each batch, in the order of ``batches``.
    """
    n_readers = min(max(effective_n_jobs(n_jobs), 1), max(len(batches), 1))
    # Reader threads see the caller's scikit-learn configuration.
    config = get_config()

    def read_with_config(positions):
        with config_context(**config):
            return read(values[positions], positions)

    # Batches read, or being read, while one is featurized.
    limit = max(n_readers * ahead, 1)
    queued = iter(batches)
    pending = collections.deque()
    executor = ThreadPoolExecutor(n_readers, thread_name_prefix="skfusion-reader")

    def top_up():
        for positions in itertools.islice(queued, limit - len(pending)):
            pending.append((positions, executor.submit(read_with_config, positions)))

    try:
        top_up()
        while pending:
            positions, future = pending.popleft()
            result = future.result()
            top_up()
            yield featurize(values[positions], positions, result)
    finally:
        # Raised, or the consumer stopped: reads not started are dropped.
        executor.shutdown(wait=True, cancel_futures=True)
