"""A short ``repr`` for result records, so that printing one does not dump whole arrays."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

#: Longest rendering of one field before it is cut.
_FIELD_CHARS = 60


def short_repr(self) -> str:
    """``Name(field=value, ...)``: arrays as ``<array KxN float64>``, long values cut to 60 chars.

    Assigned as ``__repr__`` in the body of a dataclass (which then keeps it instead of generating
    the full one).
    """
    parts = [f"{f.name}={_short(getattr(self, f.name))}" for f in fields(self) if f.repr]
    return f"{type(self).__name__}({', '.join(parts)})"


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        return f"<array {'x'.join(map(str, value.shape)) or 'scalar'} {value.dtype}>"
    text = repr(value)
    return text if len(text) <= _FIELD_CHARS else text[: _FIELD_CHARS - 3] + "..."
