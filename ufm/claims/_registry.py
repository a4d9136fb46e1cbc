"""The registry of claims: the catalogue registers itself on first use; users add their own."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import zlib
from pathlib import Path

from ..errors import InvalidParameter
from ._core import Claim

__all__ = ["register", "get_claim", "list_claims", "load_claims_module"]

_REGISTRY: dict[str, Claim] = {}
_loaded = False


def _ensure_catalogue() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from . import catalogue  # noqa: F401  (registers the built-in claims)


def register(claim: Claim, *, replace: bool = False) -> Claim:
    """Add ``claim`` to the registry (``ufm check`` then runs it); returns it.

    Raises
    ------
    InvalidParameter
        If a claim with the same id exists and ``replace`` is False.
    """
    _ensure_catalogue()
    if not isinstance(claim, Claim):
        raise InvalidParameter(f"register() takes a ufm.claims.Claim, got {type(claim).__name__}")
    if claim.id in _REGISTRY and not replace:
        raise InvalidParameter(
            f"a claim with id {claim.id!r} is registered already (pass replace=True)"
        )
    _REGISTRY[claim.id] = claim
    return claim


def get_claim(claim_id: str) -> Claim:
    """The registered claim with this id."""
    _ensure_catalogue()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        raise InvalidParameter(
            f"unknown claim {claim_id!r}; registered: {', '.join(sorted(_REGISTRY))}"
        ) from None


def list_claims() -> list[Claim]:
    """All registered claims, in registration order."""
    _ensure_catalogue()
    return list(_REGISTRY.values())


def _import_file(path: Path) -> None:
    """Execute a Python file as a fresh module (named after its path, so two files never clash)."""
    name = f"ufm_user_claims_{path.stem}_{zlib.crc32(str(path).encode()):08x}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidParameter(f"claims module {str(path)!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    # dataclasses and pickling look the module up by name while it executes
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def _import_dotted(name: str) -> None:
    """Import a module by its dotted path, from the current directory or the installed packages."""
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        # as `python -m` does: the console script's sys.path does not hold the working directory
        sys.path.insert(0, cwd)
    try:
        importlib.import_module(name)
    finally:
        if added:
            sys.path.remove(cwd)


def load_claims_module(source: str) -> list[Claim]:
    """Import a module of user claims, which registers them with :func:`register`; return those.

    This is how ``ufm check --claims-module SOURCE`` adds a user's claims to the catalogue.

    Parameters
    ----------
    source : str
        A Python file (a path ending in ``.py`` or containing a path separator), or a dotted module
        path importable from the current directory or the installed packages.

    Returns
    -------
    list of Claim
        The claims the module registered (or replaced), in registration order.

    Raises
    ------
    InvalidParameter
        If the file does not exist, if importing the module raises (the message names the module
        and the exception), or if the module registers no claim.

    Examples
    --------
    A file ``my_claims.py`` that ends with ``register(claim)`` is loaded by
    ``load_claims_module("my_claims.py")``, then checked by ``check(["user.my-claim"])``.
    """
    if not isinstance(source, str) or not source.strip():
        raise InvalidParameter(
            f"source must be a path to a .py file or a dotted module path, got {source!r}"
        )
    before = {c.id: c for c in list_claims()}
    is_file = source.endswith(".py") or os.sep in source or "/" in source
    path = Path(source).expanduser().resolve()
    if is_file and not path.is_file():
        raise InvalidParameter(f"claims module {source!r}: no such file ({path})")
    try:
        if is_file:
            _import_file(path)
        else:
            _import_dotted(source)
    except Exception as exc:
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if missing is not None and (source == missing or source.startswith(missing + ".")):
            raise InvalidParameter(
                f"claims module {source!r}: no such module (a file path must end in .py)"
            ) from None
        raise InvalidParameter(
            f"claims module {source!r} failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    added = [c for c in list_claims() if before.get(c.id) is not c]
    if not added:
        rerun = "" if is_file else " (a module imported earlier is not run again)"
        raise InvalidParameter(
            f"claims module {source!r} registered no claims: call ufm.claims.register(claim) "
            f"in it{rerun}"
        )
    return added
