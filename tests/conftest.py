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
