"""Every route of every claim can fail: planted wrong constants, generated from the registry.

For each catalogue claim, each route and each key the route compares, the prediction is replaced by
a *mutant*: the same prediction with that one key off by a wrong constant,

    v -> v - s (1 + |v|) for relation 'upper' (the direction the bound allows least), else
    v -> v + s (1 + |v|),   s = max(5%, 4 x the route's tolerance),

and the route's own measurement (from the shared fast run, no recomputation) must reject it: its
deviation from the mutant exceeds the route's tolerance. This catches a comparison that is switched
off or skips a key (e.g. Gram matrices not compared), a prediction key that no route measures, and a
route whose tolerance is too loose to see a 5% error. A new claim gets the test by registering.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import CATALOGUE_IDS

from ufm.claims import get_claim
from ufm.claims._core import deviation

#: The smallest planted error, relative to 1 + |v|: a wrong constant of 5% must be seen.
MUTANT_SIZE = 0.05


def _mutant(value, step: float):
    """``value + step (1 + |value|)``, in the value's own type (sympy stays exact)."""
    if type(value).__module__.startswith("sympy"):
        q = sp.nsimplify(step)
        if isinstance(value, sp.MatrixBase):
            return value.applyfunc(lambda e: e + q * (1 + sp.Abs(e)))
        return value + q * (1 + sp.Abs(value))
    v = np.asarray(value, dtype=float)
    return v + step * (1 + np.abs(v))


def _compared_keys(result) -> list:
    if isinstance(result.predicted, dict):
        return [k for k in result.measured if k in result.predicted]
    return [None]


@pytest.mark.parametrize("claim_id", CATALOGUE_IDS)
def test_every_route_rejects_a_wrong_constant_in_every_key(claim_id, catalogue_results):
    """Property: for every route and every compared key, the prediction off by a wrong constant
    fails that route at every sampled point."""
    claim = get_claim(claim_id)
    results = [r for r in catalogue_results if r.claim == claim_id]
    assert results and all(r.error is None for r in results), [r.error for r in results]
    for r in results:
        route = claim.routes[r.route]
        sign = -1.0 if route.relation == "upper" else 1.0
        step = sign * max(MUTANT_SIZE, 4 * route.tolerance)
        for key in _compared_keys(r):
            if key is None:
                mutant = _mutant(r.predicted, step)
            else:
                mutant = {**r.predicted, key: _mutant(r.predicted[key], step)}
            dev = deviation(r.measured, mutant, route.relation)
            assert dev > route.tolerance, (r.route, key, r.point, dev, route.tolerance)


@pytest.mark.parametrize("claim_id", CATALOGUE_IDS)
def test_every_predicted_key_is_measured_by_some_route(claim_id, catalogue_results):
    """Property: a prediction states nothing that no route checks."""
    results = [r for r in catalogue_results if r.claim == claim_id]
    predicted = results[0].predicted
    if not isinstance(predicted, dict):
        return
    measured = set().union(*(set(r.measured) for r in results))
    assert set(predicted) <= measured, sorted(set(predicted) - measured)
