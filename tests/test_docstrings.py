"""The examples in the docstrings: every ``>>>`` of every module of ``ufm`` runs and prints what it
shows (doctest, with NumPy's and ufm's result reprs as written)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ufm

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(ufm.__path__, prefix="ufm.")
    if "__main__" not in info.name
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    """Property: the module's docstring examples pass (modules without examples pass trivially)."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
