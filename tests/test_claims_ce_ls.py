"""The label-smoothing claim: a planted false constant is caught by every route."""

from __future__ import annotations

import dataclasses
import math

from ufm.claims import check, get_claim
from ufm.claims.catalogue.ce import label_smoothing_theorem


def _false_label_smoothing_claim():
    """The off-class probability stated as alpha/(K-1) + gamma instead of alpha/K + gamma."""
    true = get_claim("ce.label-smoothing")

    def predict(point):
        K = point["K"]
        wrong = {**point, "smoothing": point["smoothing"] * K / (K - 1)}
        if wrong["smoothing"] >= 1 or not wrong["smoothing"] + point["kappa"] < 1:
            return true.predict(point)  # the zero regime does not see the constant
        return {**label_smoothing_theorem(wrong, point["bias"]), "gradient_norm": 0.0}

    return dataclasses.replace(true, id="false.label-smoothing", predict=predict)


def test_a_false_label_smoothing_constant_is_caught_by_every_route():
    """Property: alpha/(K-1) in place of alpha/K in the off-class probability fails every route, at
    every sampled point of the collapsed regime (alpha K/(K-1) + kappa < 1), and only there: the
    zero regime does not see the constant. The fast points cover both regimes."""
    results = []
    rows = check(
        claims=[_false_label_smoothing_claim()], fast=True, points=4, seed=0,
        progress=results.append,
    )  # fmt: skip
    assert {r.route for r in rows} == {"symbolic", "convex", "dynamic"}
    for row in rows:
        assert not row.ok and row.failures
        assert all(f.error is None for f in row.failures), "caught by the comparison, not a crash"
    collapsed = [
        r.point["smoothing"] * r.point["K"] / (r.point["K"] - 1) + r.point["kappa"] < 1
        for r in results
    ]
    assert any(collapsed) and not all(collapsed)
    assert [not r.ok for r in results] == collapsed


def test_zero_smoothing_is_the_ce_theorem():
    """Property: alpha = 0 gives Zhu et al.'s CE minimizer (value and Grams) on both sides of
    kappa = 1."""
    ce = get_claim("ce.global-minimizer")
    for kappa in (0.3, 1.5):
        K, n, ratio = 4, 3, 2.0
        prod = (kappa / K) ** 2 / n
        point = {
            "K": K, "n": n, "kappa": kappa, "smoothing": 0.0, "bias": "free",
            "lambda_W": math.sqrt(prod * ratio), "lambda_H": math.sqrt(prod / ratio),
        }  # fmt: skip
        a = label_smoothing_theorem(point, "free")
        b = ce.predict(point)
        assert math.isclose(a["objective"], b["objective"], rel_tol=1e-14)
        for key in ("WWt", "MtM", "WM"):
            assert abs(a[key] - b[key]).max() <= 1e-14 * (1 + abs(b[key]).max())
