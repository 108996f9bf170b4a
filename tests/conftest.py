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


# Hypothesis profiles for tests/test_properties.py, chosen by HYPOTHESIS_PROFILE.
# "default" is small and derandomised so that CI sees the same examples every run;
# "slow" (`make test-slow`) explores many more, with fresh randomness each run.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "default",
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "slow",
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
