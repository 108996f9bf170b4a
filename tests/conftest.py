"""Test-session settings shared by every test module."""

import os

# pytest-xdist runs one worker per core; torch's intra-op threads (read from
# OMP_NUM_THREADS when torch is first imported) would oversubscribe them.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _single_blas_thread():
    # pytest-xdist already runs one worker per core. Several BLAS thread pools
    # (numpy's and scipy's OpenBLAS) in each worker then compete for the same
    # cores, which makes the many small fits of the suite several times slower;
    # no result depends on the thread count.
    with threadpool_limits(1, user_api="blas"):
        yield
