"""Memory and time limits, checked before anything large is allocated or a long run starts.

A computation whose estimated memory (or, for long simulations, running time) exceeds the limit is
refused with :class:`LimitExceeded` (an :class:`ufm.errors.InvalidParameter`: one ``error:`` line
and exit status 2 on the command line) stating the estimate, the limit and how to change it, rather
than being killed by the operating system or ending in a ``MemoryError`` traceback.

The limits, in order of precedence:

1. the command line's ``ufm --memory-limit SIZE --time-limit DURATION`` (:func:`set_limits`);
2. the environment variables ``UFM_MEMORY_LIMIT`` (bytes, or a number with a suffix ``K``, ``M``,
   ``G``, ``T``, optionally followed by ``iB`` or ``B``: powers of 1024) and ``UFM_TIME_LIMIT``
   (seconds, or a number with a suffix ``s``, ``m``, ``h``);
3. the defaults :data:`DEFAULT_MEMORY_LIMIT` (8 GiB) and :data:`DEFAULT_TIME_LIMIT` (1 h).

``inf`` (or ``none``) lifts a limit. The estimates are upper-bound models of the dominant
allocations (stated where each is checked); they are not measured at run time.
"""

from __future__ import annotations

import math
import os
import re

from .errors import InvalidParameter

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIME_LIMIT",
    "LimitExceeded",
    "memory_limit",
    "time_limit",
    "set_limits",
    "parse_memory",
    "parse_time",
    "check_memory",
    "check_time",
    "check_sdp",
    "check_euler_run",
    "format_bytes",
]

#: Default memory limit: 8 GiB, below the RAM of a typical laptop, so a refused run is one the
#: machine would have swapped or been killed on.
DEFAULT_MEMORY_LIMIT = 8 * 2**30

#: Default time limit for long simulations: one hour.
DEFAULT_TIME_LIMIT = 3600.0

MEMORY_ENV = "UFM_MEMORY_LIMIT"
TIME_ENV = "UFM_TIME_LIMIT"

_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER = r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*"

#: Overrides set by the command line (:func:`set_limits`); None: not set.
_override: dict[str, float | None] = {"memory": None, "time": None}


class LimitExceeded(InvalidParameter):
    """A computation would need more memory or time than the limit allows."""


def _unlimited(text: str) -> bool:
    return text.strip().lower() in ("inf", "none", "unlimited")


def _parse(text, units: dict, tail: str, rule: str, source: str) -> float:
    """A positive number with an optional unit suffix (case-insensitive) and the optional
    ``tail`` regex after it, times the unit; or inf."""
    text = str(text)
    if _unlimited(text):
        return math.inf
    suffixes = "".join(u for u in units if u)
    match = re.fullmatch(_NUMBER + f"([{suffixes}]?){tail}\\s*", text.lower())
    value = float(match.group(1)) * units[match.group(2)] if match else 0.0
    if not value > 0:
        raise InvalidParameter(f"{source} must be a positive {rule}, got {text!r}")
    return value


def parse_memory(text: str, source: str = MEMORY_ENV) -> float:
    """Bytes from ``'8GiB'``, ``'512M'``, ``'1e9'`` or ``'inf'`` (powers of 1024);
    :class:`InvalidParameter` naming ``source`` if not a positive size."""
    return _parse(text, _UNITS, "(?:i?b)?", "size such as 8GiB, 512M or 1e9 (bytes)", source)


def parse_time(text: str, source: str = TIME_ENV) -> float:
    """Seconds from ``'3600'``, ``'90s'``, ``'30m'``, ``'2h'`` or ``'inf'``;
    :class:`InvalidParameter` naming ``source`` if not a positive duration."""
    return _parse(text, _SECONDS, "", "duration such as 3600, 90s, 30m or 2h", source)


def set_limits(memory: str | None = None, time: str | None = None) -> None:
    """Override the limits for this process (None: back to the environment or default)."""
    _override["memory"] = None if memory is None else parse_memory(memory, "--memory-limit")
    _override["time"] = None if time is None else parse_time(time, "--time-limit")


def memory_limit() -> float:
    """The memory limit in bytes (module docstring for the precedence)."""
    if _override["memory"] is not None:
        return _override["memory"]
    text = os.environ.get(MEMORY_ENV)
    return DEFAULT_MEMORY_LIMIT if text is None else parse_memory(text)


def time_limit() -> float:
    """The time limit in seconds (module docstring for the precedence)."""
    if _override["time"] is not None:
        return _override["time"]
    text = os.environ.get(TIME_ENV)
    return DEFAULT_TIME_LIMIT if text is None else parse_time(text)


def format_bytes(n: float) -> str:
    """``'1.5 GiB'``-style size."""
    if math.isinf(n):
        return "unlimited"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _format_seconds(t: float) -> str:
    if math.isinf(t):
        return "unlimited"
    return f"{t:.3g} s" if t < 3600 else f"{t / 3600:.3g} h"


def _check(kind: str, what: str, estimate: float, remedy: str) -> None:
    limit_of, fmt, phrase, env, option = {
        "memory": (memory_limit, format_bytes, "needs about {} of memory", MEMORY_ENV, "--memory"),
        "time": (time_limit, _format_seconds, "would take about {}", TIME_ENV, "--time"),
    }[kind]
    limit = limit_of()
    if estimate > limit:
        raise LimitExceeded(
            f"{what} {phrase.format(fmt(estimate))}, above the limit of {fmt(limit)}; {remedy}, "
            f"or raise the limit ({env} or ufm {option}-limit)"
        )


def check_memory(what: str, nbytes: float, remedy: str) -> None:
    """Refuse ``what`` if its estimated memory ``nbytes`` exceeds :func:`memory_limit`, with a
    :class:`LimitExceeded` stating the estimate, the limit, the remedy and how to raise it."""
    _check("memory", what, nbytes, remedy)


def check_time(what: str, seconds: float, remedy: str) -> None:
    """Refuse ``what`` if its estimated running time exceeds :func:`time_limit`, with a
    :class:`LimitExceeded` stating the estimate, the limit, the remedy and how to raise it."""
    _check("time", what, seconds, remedy)


#: cvxpy's canonicalization of one PSD constraint of side m builds sparse maps with O(m^4) entries
#: (the memory the issue saw grow like K^4): measured peak growth 17 bytes per m^4 for
#: max_min_angle (m = K = 30..60) and 26 for the unreduced nuclear-norm program (m = K + N =
#: 33..60); 32 bounds both.
SDP_BYTES_PER_SIDE4 = 32


def check_sdp(what: str, side: int, remedy: str) -> None:
    """:func:`check_memory` for a conic program with one PSD block of side ``side``:
    :data:`SDP_BYTES_PER_SIDE4` * side^4 bytes."""
    check_memory(f"{what} (a PSD block of side {side})", SDP_BYTES_PER_SIDE4 * side**4, remedy)


#: Running time of one Euler-Maruyama step of one LE-SDE path: a fixed cost plus a cost per unit
#: of work (multiply-adds: q^2 + r for the modal kernel, K N d for the cross-entropy one). Measured
#: on the modal kernel (K, n, d up to 10, 100, 10): 1.6-35 us per path-step, i.e. 2-9 us + 3 ns
#: per unit of work; the constants below are the lower envelope, so a refused run is one that would
#: take longer than estimated on this machine, never a borderline one.
EULER_STEP_SECONDS = 1e-6
EULER_WORK_SECONDS = 1e-9


def check_euler_run(what: str, steps: int, paths: int, records: int, state: int, work: int):
    """Refuse an Euler-Maruyama run of ``steps`` steps on ``paths`` paths of ``state`` floats that
    records ``records`` snapshots, before anything is allocated.

    Memory: 5 float64 per step (time grid, sampled coefficients, noise scales) plus
    ``records + 2`` copies of the paths' state (snapshots, current state, initial draw).
    Time: steps * paths * (EULER_STEP_SECONDS + EULER_WORK_SECONDS * work).
    """
    remedy = "lower the time or the number of paths, or raise dt"
    check_memory(what, 8.0 * (5.0 * steps + (records + 2.0) * paths * state), remedy)
    seconds = float(steps) * paths * (EULER_STEP_SECONDS + EULER_WORK_SECONDS * work)
    check_time(what, seconds, remedy)
