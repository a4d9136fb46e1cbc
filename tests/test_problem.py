"""Property tests of ufm.Problem: validation messages name the argument; derived fields agree."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ufm import InvalidParameter, Problem

BASE = dict(loss="ce", K=3, d=4, n=2, lambda_W=0.1, lambda_H=0.1, lambda_b=0.1, bias="regularized")


def build(**changes):
    kwargs = dict(BASE)
    kwargs.update(changes)
    return Problem(**{k: v for k, v in kwargs.items() if v is not _DROP})


_DROP = object()


@pytest.mark.parametrize("K", [1, 0, -3, 2.0, True, "3"])
def test_bad_K_is_refused_by_name(K):
    """Property: K must be an integer >= 2; the message names K and the value."""
    with pytest.raises(InvalidParameter, match=r"K must be an integer >= 2"):
        build(K=K)


BAD_LAMBDAS = [-0.1, math.nan, math.inf, -math.inf, "0.1", None]


@pytest.mark.parametrize(
    "name, value",
    [(name, value) for name in ("lambda_W", "lambda_H", "lambda_b") for value in BAD_LAMBDAS][
        :-1
    ],  # lambda_b=None is the "missing lambda_b" case, tested below
)
def test_bad_lambda_is_refused_by_name(name, value):
    """Property: every lambda must be finite and >= 0; the message names the lambda."""
    with pytest.raises(InvalidParameter, match=name):
        build(**{name: value})


@pytest.mark.parametrize("bias", ["none", "free"])
def test_lambda_b_refused_without_regularized_bias(bias):
    """Property: lambda_b with bias='none' or 'free' is refused, naming lambda_b and the bias."""
    with pytest.raises(InvalidParameter, match=r"lambda_b applies only when bias='regularized'"):
        build(bias=bias, lambda_b=0.1)
    assert build(bias=bias, lambda_b=_DROP).lambda_b == 0.0


def test_missing_lambda_b_with_regularized_bias():
    """Property: bias='regularized' without lambda_b is refused, naming lambda_b."""
    with pytest.raises(InvalidParameter, match=r"lambda_b is required"):
        build(lambda_b=_DROP)


@pytest.mark.parametrize(
    "sizes, pattern",
    [
        ((2, 2), r"class_sizes must have K=3 entries"),
        ((2, 2, 2, 2), r"class_sizes must have K=3 entries"),
        ((2, 0, 2), r"class_sizes\[1\] must be an integer >= 1"),
        ((2, -1, 2), r"class_sizes\[1\] must be an integer >= 1"),
        ((2, 1.5, 2), r"class_sizes\[1\] must be an integer >= 1"),
        ("222", r"class_sizes must be a sequence"),
        (5, r"class_sizes must be a sequence"),
    ],
)
def test_bad_class_sizes(sizes, pattern):
    """Property: class sizes of wrong length, zero, negative or non-integer are refused by name."""
    with pytest.raises(InvalidParameter, match=pattern):
        build(n=_DROP, class_sizes=sizes)


@pytest.mark.parametrize("n", [0, -1, 1.5])
def test_bad_n(n):
    """Property: n must be an integer >= 1."""
    with pytest.raises(InvalidParameter, match=r"n must be an integer >= 1"):
        build(n=n)


def test_n_and_class_sizes_both_or_neither():
    """Property: exactly one of n and class_sizes must be given; the message names both."""
    with pytest.raises(InvalidParameter, match=r"exactly one of n .* and class_sizes"):
        build(class_sizes=(2, 2, 2))
    with pytest.raises(InvalidParameter, match=r"exactly one of n .* and class_sizes"):
        build(n=_DROP)


@pytest.mark.parametrize("field, value", [("loss", "hinge"), ("bias", "fixed"), ("d", 0)])
def test_bad_choice_fields(field, value):
    """Property: unknown loss or bias mode and d < 1 are refused, naming the field."""
    with pytest.raises(InvalidParameter, match=field):
        build(**{field: value})


@given(
    st.sampled_from(["ce", "mse"]),
    st.sampled_from(["regularized", "free", "none"]),
    st.integers(2, 6),
    st.integers(1, 8),
    st.lists(st.integers(1, 5), min_size=6, max_size=6),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_valid_problem_fields_and_round_trip(loss, bias, K, d, sizes, lam_W, lam_H):
    """Property: N, labels, balanced and n follow the class sizes; from_dict(to_dict()) is equal."""
    sizes = tuple(sizes[:K])
    extra = {"lambda_b": 0.5} if bias == "regularized" else {}
    p = Problem(
        loss=loss, K=K, d=d, class_sizes=sizes, lambda_W=lam_W, lambda_H=lam_H, bias=bias, **extra
    )
    assert p.N == sum(sizes)
    assert np.array_equal(p.labels, np.repeat(np.arange(K), sizes))
    assert p.balanced == (len(set(sizes)) == 1)
    assert p.n == (sizes[0] if p.balanced else None)
    assert p.has_bias == (bias != "none")
    assert Problem.from_dict(p.to_dict()) == p
    with pytest.raises(ValueError):
        p.labels[0] = 1


def test_replace_revalidates():
    """Property: replace() validates again and replaces class_sizes by n."""
    p = build()
    assert p.replace(n=5).class_sizes == (5, 5, 5)
    with pytest.raises(InvalidParameter, match="lambda_W"):
        p.replace(lambda_W=-1.0)


@pytest.mark.parametrize("bias", ["free", "none"])
def test_replace_on_problem_without_regularized_bias(bias):
    """Property: replace() works for every bias mode (regression: to_dict omits lambda_b for 'free'
    and 'none', and replace() used to pop it without a default, raising KeyError)."""
    p = build(bias=bias, lambda_b=_DROP)
    assert p.replace(n=4).class_sizes == (4, 4, 4)
    assert p.replace(bias="regularized", lambda_b=0.5).lambda_b == 0.5


def test_replace_K_keeps_balanced_class_size():
    """Property: changing K of a balanced problem keeps n; of an imbalanced one it needs sizes."""
    assert build().replace(K=5).class_sizes == (2,) * 5
    imbalanced = build(n=_DROP, class_sizes=(1, 2, 3))
    with pytest.raises(InvalidParameter, match="class_sizes must have K=4 entries"):
        imbalanced.replace(K=4)
    assert imbalanced.replace(K=2, class_sizes=(4, 5)).N == 9


def test_from_dict_refuses_unknown_fields():
    """Property: unknown fields in a problem dict are refused by name."""
    with pytest.raises(InvalidParameter, match="unknown problem fields"):
        Problem.from_dict({**build().to_dict(), "gamma": 1})
