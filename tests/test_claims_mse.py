"""The MSE claims of ``ufm.claims.catalogue.mse``: planted false variants are caught."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ufm.claims import check, get_claim
from ufm.errors import InvalidParameter
from ufm.minimizers import global_minimizer
from ufm.problem import Problem


def _false_svt_claim():
    true = get_claim("mse.imbalanced-svt")

    def predict(point):
        out = dict(true.predict(point))
        n = np.asarray(point["class_sizes"], dtype=float)
        sigma = np.linalg.svd(
            (np.eye(n.size) - np.outer(n, np.ones(n.size)) / n.sum()) @ np.diag(np.sqrt(n))
            if point["bias"] == "free"
            else np.diag(np.sqrt(n)),
            compute_uv=False,
        )
        t = n.sum() * np.sqrt(point["lambda_W"] * point["lambda_H"])
        # 1/N in place of 1/(2N): one wrong constant
        out["objective"] = np.sum(np.minimum(sigma, t) ** 2) / n.sum() + np.sqrt(
            point["lambda_W"] * point["lambda_H"]
        ) * np.sum(np.maximum(sigma - t, 0.0))
        return out

    return dataclasses.replace(true, id="false.mse-imbalanced-svt", predict=predict)


def test_false_imbalanced_svt_is_caught_by_every_route():
    """Property: the soft-threshold value with 1/N instead of 1/(2N) fails on every route."""
    rows = check(claims=[_false_svt_claim()], fast=True, seed=0)
    assert {r.route for r in rows} == {"symbolic", "convex", "dynamic"}
    for row in rows:
        assert not row.ok and row.failures
        assert all(f.error is None for f in row.failures), "caught by the comparison, not a crash"


def test_imbalanced_svt_domain_samples_every_regime():
    """Property: the domain reaches zeroed and non-zeroed classes, with free and no bias."""
    claim = get_claim("mse.imbalanced-svt")
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(60):
        point = claim.domain.sample(rng, fast=True)
        seen.add((point["bias"], point["regime"]))
        if point["bias"] == "none":
            n = np.asarray(point["class_sizes"], dtype=float)
            zeroed = n <= n.sum() ** 2 * point["lambda_W"] * point["lambda_H"]
            assert zeroed.any() == (point["regime"] == "some zeroed")
    assert len(seen) == 4


def test_global_minimizer_refuses_imbalanced_regularized_bias():
    """Property: imbalanced MSE with a regularized bias (not derived) is still refused."""
    p = Problem(
        loss="mse",
        K=3,
        d=3,
        class_sizes=(3, 2, 1),
        lambda_W=0.01,
        lambda_H=0.01,
        lambda_b=0.1,
        bias="regularized",
    )
    with pytest.raises(InvalidParameter, match="balanced classes"):
        global_minimizer(p)


def test_imbalanced_no_bias_zeroes_exactly_the_small_classes():
    """Property: without bias class k has zero logits iff n_k <= N^2 lambda_W lambda_H."""
    sizes = (9, 4, 1, 1)
    lam = 2.5 / 15**2  # N^2 lambda_W lambda_H = 2.5 * ... chosen between 1 and 4
    p = Problem(loss="mse", K=4, d=4, class_sizes=sizes, lambda_W=lam, lambda_H=1.0, bias="none")
    cf = global_minimizer(p)
    norms = np.linalg.norm(cf.W @ cf.M, axis=0)
    assert list(norms == 0) == [False, False, True, True]
    assert not cf.zero_solution
