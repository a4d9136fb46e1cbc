"""The registry of claims: the catalogue registers itself on first use; users add their own."""

from __future__ import annotations

from ..errors import InvalidParameter
from ._core import Claim

__all__ = ["register", "get_claim", "list_claims"]

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
