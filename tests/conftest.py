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


#: Scripts run at once by :func:`run_selected_scripts`: the CI machine has 2 cores, and every
#: script (a proof, a notebook's kernel) is single-threaded (OMP_NUM_THREADS=1).
SCRIPT_WORKERS = 2


def run_selected_scripts(request, test_name: str, commands: dict) -> dict:
    """Run the subprocesses of the selected items of ``test_name`` at once, SCRIPT_WORKERS at a
    time, and return ``{id: CompletedProcess}``.

    ``commands`` maps each parameter id to ``(argv, kwargs)`` for :func:`subprocess.run`; only the
    ids whose test items pytest selected (``-k``, node ids) are run, so a single test still runs a
    single script. Each test then asserts on its own script's result."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    selected = {
        item.callspec.id
        for item in request.session.items
        if item.originalname == test_name and hasattr(item, "callspec")
    }
    jobs = {key: commands[key] for key in commands if key in selected}
    with ThreadPoolExecutor(SCRIPT_WORKERS) as pool:
        futures = {
            key: pool.submit(subprocess.run, argv, capture_output=True, text=True, **kwargs)
            for key, (argv, kwargs) in jobs.items()
        }
        return {key: future.result() for key, future in futures.items()}
