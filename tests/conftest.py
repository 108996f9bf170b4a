"""Test-session settings shared by every test module."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _single_blas_thread():
    # pytest-xdist already runs one worker per core. Several BLAS thread pools
    # (numpy's and scipy's OpenBLAS) in each worker then compete for the same
    # cores, which makes the many small fits of the suite several times slower;
    # no result depends on the thread count.
    with threadpool_limits(1, user_api="blas"):
        yield
