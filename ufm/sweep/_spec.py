r"""Sweep specifications: parsing, validation, the dense design and its chunking into tasks.

A spec is a TOML or JSON document (:func:`load_spec`) or a dict (:func:`parse_spec`)::

    task = "minimizer"            # a task kind of ufm.sweep.TASKS
    name = "threshold"            # a label (optional)
    design = "grid"               # "grid" (default) or "random"
    samples = 50                  # random design only: number of points
    seeds = 100                   # replicates per point of a stochastic task kind (default 1)
    seed = 0                      # root entropy of the seeds (default 0)
    batch = 16                    # points per task (default: about TARGET_TASK_SECONDS of work)
    outputs = ["objective"]       # which outputs of the task kind to keep (default: all)

    [fixed]                       # parameters held constant
    loss = "ce"

    [params]                      # parameters swept, in this order (the dimensions of the result)
    kappa = {range = [0.25, 4.0], num = 9, scale = "log"}   # linear by default
    K = [2, 3, 5]                 # or {values = [2, 3, 5]}

    [plot]                        # how `ufm sweep plot` draws it (optional, not part of the hash)
    variable = "zero_solution"

Design. ``grid``: the result is dense over the cartesian product of the parameters' values, with
dimensions ``(*params, "seed")`` (no ``seed`` dimension for a deterministic task kind).
``random``: ``samples`` points drawn uniformly (log-uniformly for ``scale = "log"``; uniformly among
``values``), dimensions ``("point", "seed")`` with the parameters as coordinates along ``point``.

Seeds. The seed of the point at grid position :math:`(i_1, \dots, i_p, s)` is the first 32-bit word
of ``numpy.random.SeedSequence(seed, spawn_key=(i_1, ..., i_p, s))``: it depends on the position
only, not on the order or the machine the points run on, so a resumed or redistributed sweep gives
bit-identical results. The random design's points are drawn from the spawn key ``(2**32 - 1,)``,
which no grid position uses.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidFile, InvalidParameter

__all__ = ["Spec", "load_spec", "parse_spec", "TARGET_TASK_SECONDS", "MIN_TASKS"]

#: Work per task the default batching aims at: dask's per-task cost is a few milliseconds, so tasks
#: of about half a second keep the scheduling overhead near 1%, while still giving a progress bar
#: and a resume granularity of seconds.
TARGET_TASK_SECONDS = 0.5

#: The default batching never makes fewer tasks than this (when there are that many points), so
#: that small sweeps still spread over the workers.
MIN_TASKS = 16

_TOP_KEYS = {"task", "name", "design", "samples", "seeds", "seed", "batch", "outputs", "fixed",
             "params", "plot"}  # fmt: skip
_DESIGN_KEY = (2**32 - 1,)


def _scalar_ok(value) -> bool:
    return isinstance(value, bool | int | float | str) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


def _param_values(name: str, raw, design: str) -> tuple[np.ndarray, dict]:
    """The values (grid) or the sampling rule (random) of one swept parameter."""
    where = f"params.{name}"
    if isinstance(raw, list):
        raw = {"values": raw}
    if not isinstance(raw, dict):
        raise InvalidParameter(
            f"{where} must be a list of values or a table {{range=[lo, hi], num=N}}, got {raw!r}"
        )
    unknown = set(raw) - {"values", "range", "num", "scale"}
    if unknown:
        raise InvalidParameter(f"{where}: unknown keys {sorted(unknown)}")
    if ("values" in raw) == ("range" in raw):
        raise InvalidParameter(f"{where} needs exactly one of 'values' and 'range', got {raw!r}")
    if "values" in raw:
        values = raw["values"]
        if not isinstance(values, list) or not values or not all(map(_scalar_ok, values)):
            raise InvalidParameter(
                f"{where}.values must be a non-empty list of finite numbers, strings or booleans, "
                f"got {values!r}"
            )
        kinds = {type(v) if not isinstance(v, int | float) or isinstance(v, bool) else float
                 for v in values}  # fmt: skip
        if len(kinds) > 1:
            raise InvalidParameter(f"{where}.values must all have one type, got {values!r}")
        if len(set(values)) != len(values):
            raise InvalidParameter(f"{where}.values must be distinct, got {values!r}")
        if raw.keys() - {"values"}:
            raise InvalidParameter(f"{where}: 'num' and 'scale' go with 'range', not 'values'")
        return np.asarray(values), {"values": values}
    rng = raw["range"]
    scale = raw.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise InvalidParameter(f"{where}.scale must be 'linear' or 'log', got {scale!r}")
    if (
        not isinstance(rng, list) or len(rng) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
        or not all(math.isfinite(v) for v in rng) or not rng[0] < rng[1]
    ):  # fmt: skip
        raise InvalidParameter(f"{where}.range must be [lo, hi] with finite lo < hi, got {rng!r}")
    if scale == "log" and rng[0] <= 0:
        raise InvalidParameter(f"{where}.range must be > 0 on a log scale, got {rng!r}")
    rule = {"range": [float(rng[0]), float(rng[1])], "scale": scale}
    if design == "random":
        if "num" in raw:
            raise InvalidParameter(f"{where}.num has no meaning in a random design (use samples)")
        return np.asarray(rule["range"]), rule
    num = raw.get("num")
    if isinstance(num, bool) or not isinstance(num, int) or num < 2:
        raise InvalidParameter(f"{where}.num must be an integer >= 2, got {num!r}")
    space = np.geomspace if scale == "log" else np.linspace
    return space(*rule["range"], num), {**rule, "num": num}


def _int_key(raw: dict, key: str, default: int, minimum: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameter(f"{key} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass(frozen=True, eq=False)
class Spec:
    """A validated sweep specification (see the module docstring).

    Attributes
    ----------
    task : str
        Task kind, a key of :data:`ufm.sweep.TASKS`.
    name : str
    design : {'grid', 'random'}
    fixed : dict
        Parameters held constant.
    params : dict
        name -> values along the design (grid: the axis; random: one value per point).
    seeds : int
        Replicates per point (1 for a deterministic task kind).
    seed : int
        Root entropy of :class:`numpy.random.SeedSequence`.
    outputs : tuple of str
        Outputs kept, each a data variable of the result.
    dims : tuple of str
        Dimensions of the result, in order.
    shape, chunks : tuple of int
        Its shape and the shape of one task's block (the Zarr chunk shape).
    plot : dict
        Drawing hints for :func:`ufm.sweep.plot_sweep`.
    canonical : dict
        The normalized spec (everything that determines the numbers; ``plot`` excluded).
    """

    task: str
    name: str
    design: str
    fixed: dict
    params: dict
    seeds: int
    seed: int
    outputs: tuple
    dims: tuple
    shape: tuple
    chunks: tuple
    stochastic: bool
    plot: dict = field(default_factory=dict)
    canonical: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """Hash of :attr:`canonical`: a store answers only to the spec that created it."""
        text = json.dumps(self.canonical, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def param_dims(self) -> tuple:
        """The dimensions that carry parameters (all but ``seed``)."""
        return self.dims[:-1] if self.stochastic else self.dims

    @property
    def task_grid(self) -> tuple:
        """Number of tasks along each dimension."""
        return tuple(-(-s // c) for s, c in zip(self.shape, self.chunks, strict=True))

    @property
    def n_tasks(self) -> int:
        return math.prod(self.task_grid)

    def region(self, task: int) -> tuple:
        """The slices (one per dimension) of task number ``task`` (C order over the task grid)."""
        index = np.unravel_index(task, self.task_grid)
        return tuple(
            slice(int(i) * c, min((int(i) + 1) * c, s))
            for i, c, s in zip(index, self.chunks, self.shape, strict=True)
        )

    def points(self, region: tuple):
        """Yield ``(position, parameters, seed)`` for every point of ``region``, in C order.

        ``parameters`` merges the fixed and the swept values (as Python scalars); ``seed`` is the
        position's 32-bit seed (module docstring), None for a deterministic task kind.
        """
        ranges = [range(r.start, r.stop) for r in region]
        for position in itertools.product(*ranges):
            if self.design == "grid":
                values = {k: v[i] for (k, v), i in zip(self.params.items(), position, strict=False)}
            else:
                values = {k: v[position[0]] for k, v in self.params.items()}
            point = {**self.fixed, **{k: v.item() for k, v in values.items()}}
            seed = None
            if self.stochastic:
                sequence = np.random.SeedSequence(self.seed, spawn_key=tuple(position))
                seed = int(sequence.generate_state(1, dtype=np.uint32)[0])
            yield position, point, seed

    def parameter_points(self):
        """Every distinct parameter point (without seeds), for validation before a run."""
        ranges = [range(s) for s in (self.shape[:-1] if self.stochastic else self.shape)]
        for position in itertools.product(*ranges):
            region = tuple(slice(i, i + 1) for i in position)
            if self.stochastic:
                region += (slice(0, 1),)
            yield next(self.points(region))[1]


def _chunks(shape: tuple, batch: int) -> tuple:
    """Chunk shape holding about ``batch`` points: whole trailing dimensions first."""
    chunks = []
    budget = batch
    for size in reversed(shape):
        c = max(1, min(size, budget))
        chunks.append(c)
        budget = max(1, budget // c)
    return tuple(reversed(chunks))


def parse_spec(raw: dict, *, source: str = "spec") -> Spec:
    """Validate a spec given as a dict (the parsed TOML/JSON document) and build its design.

    Parameters
    ----------
    raw : dict
        See the module docstring.
    source : str
        Where the spec came from, for error messages.

    Returns
    -------
    Spec

    Raises
    ------
    InvalidParameter
        Unknown keys or task kind, malformed ranges, parameters the task kind does not take or
        requires, a parameter both fixed and swept, or a point the task kind refuses (checked for
        every parameter point before anything runs).
    """
    from ._adapters import TASKS

    if not isinstance(raw, dict):
        raise InvalidParameter(f"{source}: a sweep spec must be a table/object, got {raw!r}")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise InvalidParameter(f"{source}: unknown keys {sorted(unknown)}; allowed: "
                               f"{sorted(_TOP_KEYS)}")  # fmt: skip
    task = raw.get("task")
    if task not in TASKS:
        raise InvalidParameter(f"{source}: task must be one of {sorted(TASKS)}, got {task!r}")
    kind = TASKS[task]
    design = raw.get("design", "grid")
    if design not in ("grid", "random"):
        raise InvalidParameter(f"{source}: design must be 'grid' or 'random', got {design!r}")
    name = raw.get("name", task)
    if not isinstance(name, str):
        raise InvalidParameter(f"{source}: name must be a string, got {name!r}")
    seeds = _int_key(raw, "seeds", 1, 1)
    if seeds > 1 and not kind.stochastic:
        raise InvalidParameter(
            f"{source}: seeds must be 1 for the deterministic task kind {task!r}, got {seeds}"
        )
    seed = _int_key(raw, "seed", 0, 0)
    fixed = raw.get("fixed", {})
    params_raw = raw.get("params", {})
    if not isinstance(fixed, dict) or not isinstance(params_raw, dict):
        raise InvalidParameter(f"{source}: 'fixed' and 'params' must be tables")
    for k, v in fixed.items():
        if not _scalar_ok(v):
            raise InvalidParameter(f"{source}: fixed.{k} must be a finite number, a string or a "
                                   f"boolean, got {v!r}")  # fmt: skip
    both = set(fixed) & set(params_raw)
    if both:
        raise InvalidParameter(f"{source}: {sorted(both)} both fixed and swept; keep one")
    reserved = {"seed", "point"} & set(params_raw)
    if reserved:
        raise InvalidParameter(f"{source}: parameter names {sorted(reserved)} are reserved")
    names = set(fixed) | set(params_raw)
    allowed = set(kind.required) | set(kind.optional)
    if names - allowed and not kind.open_parameters:
        raise InvalidParameter(
            f"{source}: task {task!r} takes no parameter {sorted(names - allowed)}; it takes "
            f"{sorted(allowed)}"
        )
    missing = [r for r in kind.required if r not in names]
    if missing:
        raise InvalidParameter(f"{source}: task {task!r} requires parameters {missing}")
    if design == "grid" and not params_raw and not kind.stochastic:
        raise InvalidParameter(f"{source}: a grid needs at least one parameter in [params]")
    params, rules = {}, {}
    for k, v in params_raw.items():
        params[k], rules[k] = _param_values(k, v, design)
    samples = None
    if design == "random":
        if not params_raw:
            raise InvalidParameter(f"{source}: a random design needs parameters in [params]")
        samples = _int_key(raw, "samples", 0, 1)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=_DESIGN_KEY))
        for k, rule in rules.items():
            if "values" in rule:
                params[k] = params[k][rng.integers(0, len(params[k]), samples)]
            elif rule["scale"] == "log":
                params[k] = np.exp(rng.uniform(*np.log(rule["range"]), samples))
            else:
                params[k] = rng.uniform(*rule["range"], samples)
    elif "samples" in raw:
        raise InvalidParameter(f"{source}: samples belongs to design = 'random'")
    outputs = raw.get("outputs", list(kind.outputs))
    if (
        not isinstance(outputs, list) or not outputs or not set(outputs) <= set(kind.outputs)
        or len(set(outputs)) != len(outputs)
    ):  # fmt: skip
        raise InvalidParameter(f"{source}: outputs must be a non-empty list of distinct names "
                               f"from {list(kind.outputs)}, got {outputs!r}")  # fmt: skip
    dims = ("point",) if design == "random" else tuple(params)
    shape = (samples,) if design == "random" else tuple(len(v) for v in params.values())
    if kind.stochastic:
        dims, shape = dims + ("seed",), shape + (seeds,)
    total = math.prod(shape)
    if "batch" in raw:
        batch = _int_key(raw, "batch", 1, 1)
    else:
        batch = max(1, round(TARGET_TASK_SECONDS / kind.seconds_per_point))
        batch = min(batch, max(1, -(-total // MIN_TASKS)))
    plot = raw.get("plot", {})
    if not isinstance(plot, dict):
        raise InvalidParameter(f"{source}: plot must be a table, got {plot!r}")
    canonical = {
        "task": task, "name": name, "design": design, "samples": samples, "seeds": seeds,
        "seed": seed, "batch": batch, "outputs": list(outputs), "fixed": dict(fixed),
        "params": rules,
    }  # fmt: skip
    spec = Spec(
        task=task, name=name, design=design, fixed=dict(fixed), params=params, seeds=seeds,
        seed=seed, outputs=tuple(outputs), dims=dims, shape=shape, chunks=_chunks(shape, batch),
        stochastic=kind.stochastic, plot=dict(plot), canonical=canonical,
    )  # fmt: skip
    for point in spec.parameter_points():
        try:
            kind.check(point, spec.outputs)
        except InvalidParameter as exc:
            raise InvalidParameter(f"{source}: the point {point} is refused: {exc}") from None
    return spec


def load_spec(path) -> Spec:
    """Read a sweep spec from a ``.toml`` or ``.json`` file and validate it (:func:`parse_spec`).

    Raises
    ------
    InvalidFile
        The file is missing, unreadable, not TOML/JSON, or has another suffix.
    InvalidParameter
        The document is not a valid spec.
    """
    path = Path(path)
    if path.suffix.lower() not in (".toml", ".json"):
        raise InvalidFile(f"sweep spec {str(path)!r} must end in .toml or .json")
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidFile(f"cannot read sweep spec {str(path)!r}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFile(f"sweep spec {str(path)!r} is not valid "
                          f"{path.suffix[1:].upper()}: {exc}") from None  # fmt: skip
    return parse_spec(raw, source=str(path))
