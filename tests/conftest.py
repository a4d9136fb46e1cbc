"""Shared test settings.

Hypothesis is derandomized (reproducible in CI) and has no per-example deadline (numba compilation
and solver calls make first examples slow).
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ufm",
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ufm")


import pytest  # noqa: E402

from ufm.claims import check, list_claims  # noqa: E402

#: Ids of the built-in catalogue, taken before any test registers a claim of its own.
CATALOGUE_IDS = tuple(c.id for c in list_claims())


@pytest.fixture(scope="session")
def catalogue_results():
    """Every route of every catalogue claim at two fast points (seed 1), run once per session: the
    catalogue test checks that they pass, the planted-mutant test reuses the measurements."""
    results = []
    check(claim_ids=CATALOGUE_IDS, fast=True, points=2, seed=1, progress=results.append)
    return results
