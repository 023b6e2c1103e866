"""Fixtures shared by several test modules."""

import pytest


@pytest.fixture(scope="module")
def dask_client():
    """A client of a 2-worker in-process LocalCluster (one per test module)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield client
