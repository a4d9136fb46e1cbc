"""Reading untrusted ``.npz`` archives and JSON metadata within stated limits.

Every size is checked from the headers before anything is allocated: the zip directory gives the
uncompressed size of each member, the ``.npy`` header its dtype and shape, and a member whose
header claims more bytes than the member holds, or than ``max_bytes`` allows, is refused without
being read. JSON metadata is parsed with bounded integers and nesting and without NaN/Infinity.
Errors are :class:`ufm.errors.InvalidFile` naming the file, the entry and the limit.
"""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from .errors import InvalidFile

__all__ = ["NpyEntry", "read_headers", "read_entry", "parse_json"]

#: Integers in metadata have at most this many digits (int64 holds 19), so that no field can
#: ask for an absurd size or a slow big-integer conversion.
MAX_INT_DIGITS = 19

#: Deepest nesting of JSON objects and arrays in metadata: the schema itself nests 4 deep; the
#: producer's ``parameters`` and ``extra`` get the rest.
MAX_JSON_DEPTH = 32

#: Largest metadata string, in bytes of the stored array (4 per character).
MAX_METADATA_BYTES = 4 * 2**20


class NpyEntry:
    """One archive member: its name (without ``.npy``), dtype, shape and size from its header."""

    def __init__(self, name: str, dtype: np.dtype, shape: tuple[int, ...], nbytes: int):
        self.name, self.dtype, self.shape, self.nbytes = name, dtype, shape, nbytes


def read_headers(archive: zipfile.ZipFile, where: str, max_bytes: int) -> dict[str, NpyEntry]:
    """The ``.npy`` headers of every member of ``archive``, checked against ``max_bytes``.

    Raises
    ------
    InvalidFile
        A member that is not ``.npy``, an unreadable header, an object dtype, a header claiming
        more bytes than the member holds, or members that together exceed ``max_bytes``.
    """
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise InvalidFile(
            f"{where}: the archive's entries hold {total} bytes, over the limit of {max_bytes} "
            "bytes (ufm.io.MAX_LOAD_BYTES; pass max_bytes= to ufm.load for a larger file)"
        )
    entries = {}
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise InvalidFile(f"{where}: entry {info.filename!r} is not a .npy array")
        name = info.filename[: -len(".npy")]
        with archive.open(info) as fh:
            try:
                version = npy_format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = npy_format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _, dtype = npy_format.read_array_header_2_0(fh)
                else:
                    raise ValueError(f"npy format version {version} is not supported")
            except (ValueError, SyntaxError, EOFError) as exc:
                raise InvalidFile(
                    f"{where}: entry {name!r} has no valid .npy header: {exc}"
                ) from None
            header = fh.tell()
        if dtype.hasobject:
            raise InvalidFile(f"{where}: entry {name!r} holds Python objects (pickle); refused")
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > max_bytes:
            raise InvalidFile(
                f"{where}: entry {name!r} claims shape {shape} ({nbytes} bytes), over the limit "
                f"of {max_bytes} bytes (ufm.io.MAX_LOAD_BYTES; pass max_bytes= to ufm.load)"
            )
        if nbytes > info.file_size - header:
            raise InvalidFile(
                f"{where}: entry {name!r} claims shape {shape} ({nbytes} bytes) but holds "
                f"{info.file_size - header} bytes (truncated or crafted)"
            )
        entries[name] = NpyEntry(name, dtype, shape, nbytes)
    return entries


def read_entry(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """The array of member ``name`` (its header already checked by :func:`read_headers`)."""
    with archive.open(f"{name}.npy") as fh:
        return npy_format.read_array(fh, allow_pickle=False)


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _parse_constant(text: str):
    raise ValueError(f"{text} is not allowed")


def parse_json(text: str, where: str):
    """``json.loads(text)`` with bounded integers and nesting, and no NaN or Infinity."""
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_parse_constant)
    except RecursionError:
        raise InvalidFile(
            f"{where}: metadata nests deeper than this reader allows ({MAX_JSON_DEPTH})"
        ) from None
    except ValueError as exc:
        raise InvalidFile(f"{where}: metadata is not valid JSON: {exc}") from None
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise InvalidFile(
                    f"{where}: metadata nests deeper than this reader allows ({MAX_JSON_DEPTH})"
                )
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidFile(f"{where}: metadata holds a non-finite number ({item})")
    return value
