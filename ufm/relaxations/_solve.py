"""Solving a cvxpy problem with a named solver, and refusing anything short of certified optimality.

cvxpy is imported here, inside functions, so that ``import ufm`` (and ``import ufm.relaxations``)
never imports it; a missing cvxpy or solver becomes :class:`ufm.errors.SolverFailed`, like any other
failure.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass

from .._validation import check_choice, check_positive
from ..errors import SolverFailed
from ..tolerances import CLARABEL_EPS, SCS_EPS

#: Solvers offered by every relaxation, with the default accuracy each is asked for.
SOLVERS = {"clarabel": CLARABEL_EPS, "scs": SCS_EPS}

#: Iteration cap for SCS: first-order, it needs tens of thousands of iterations at eps = 1e-6 on the
#: ill-conditioned log-sum-exp cones; hitting the cap is reported as a failure, never returned.
SCS_MAX_ITERS = 200_000


@dataclass(frozen=True)
class SolveInfo:
    """What the solver reported: its name, status, primal and dual objective and their gap, timing.

    ``duality_gap`` is ``primal - dual`` of the conic form the solver saw (a constant offset
    cancels).
    """

    solver: str
    status: str
    primal: float
    dual: float
    duality_gap: float
    iterations: int
    solve_time: float


def import_cvxpy():
    """cvxpy, or :class:`SolverFailed` naming the missing package."""
    try:
        import cvxpy
    except ImportError as exc:  # pragma: no cover - cvxpy is a hard dependency of this module
        raise SolverFailed(
            f"cvxpy is not installed: {exc}", solver="cvxpy", status="not_installed"
        ) from None
    return cvxpy


def resolve_tolerance(solver: str, tol: float | None) -> tuple[str, float]:
    """Validate the solver name; return it with its accuracy (the default when ``tol`` is None)."""
    solver = check_choice("solver", solver, tuple(SOLVERS))
    return solver, SOLVERS[solver] if tol is None else check_positive("tol", tol)


#: Clarabel settings for further attempts after an ``optimal_inaccurate`` ("almost solved") end,
#: tried in order; the tolerances are never changed. That status comes from inaccurate KKT linear
#: solves near degenerate optima (e.g. Z = 0 of a nuclear norm), which more static regularization
#: and stricter iterative refinement cure, or from the Ruiz equilibration: the scaled residuals
#: stall while the unscaled ones miss the tolerance (seen on the unreduced K x N nuclear-norm
#: program, where the sample columns of a class are exact copies), cured by solving unscaled.
_CLARABEL_RETRIES = (
    {
        "static_regularization_constant": 1e-7,
        "iterative_refinement_reltol": 1e-14,
        "iterative_refinement_abstol": 1e-14,
    },
    {"equilibrate_enable": False},
)


def _options(solver: str, tol: float, retry: dict | None = None) -> dict:
    if solver == "clarabel":
        opts = {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol, "max_iter": 500}
        return opts | (retry or {})
    return {"eps_abs": tol, "eps_rel": tol, "max_iters": SCS_MAX_ITERS}


#: Seconds between two checks of the main thread for Ctrl-C while a solver runs in the worker.
_POLL_SECONDS = 0.1


def _in_worker(call):
    """``call()`` in a daemon thread while the main thread waits, and so hears Ctrl-C.

    A conic solver is compiled code that can run for minutes without returning to the interpreter,
    and Python raises ``KeyboardInterrupt`` only in the main thread, between bytecodes. The main
    thread therefore only waits (in short joins); on Ctrl-C it leaves the daemon worker behind,
    which ends with the process. Exceptions of the call are re-raised in the caller.
    """
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised in the caller, whatever it is
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="ufm-solver", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(_POLL_SECONDS)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _attempt(cp, problem, name: str, opts: dict, what: str):
    # The raw solver output is kept (cvxpy's own solve() drops the dual objective) so that the
    # duality gap can be reported; the three calls below are exactly what Problem.solve does.
    try:
        data, chain, inverse = problem.get_problem_data(name, solver_opts=opts)
        raw = _in_worker(
            lambda: chain.solve_via_data(
                problem, data, warm_start=False, verbose=False, solver_opts=opts
            )
        )
        with warnings.catch_warnings():
            # cvxpy warns about inaccurate solutions; the status is checked (and raised on) below.
            warnings.simplefilter("ignore", UserWarning)
            problem.unpack_results(raw, chain, inverse)
    except cp.error.SolverError as exc:
        status = "not_installed" if "not installed" in str(exc) else "solver_error"
        raise SolverFailed(f"{what}: {exc}", solver=name, status=status) from None
    return raw


def solve(problem, solver: str, tol: float, what: str) -> SolveInfo:
    """Solve the cvxpy ``problem`` in place; return the solver's report.

    Parameters
    ----------
    problem : cvxpy.Problem
    solver : {'clarabel', 'scs'}
    tol : float
        Gap and feasibility tolerance handed to the solver.
    what : str
        Name of the relaxation, for error messages.

    Raises
    ------
    SolverFailed
        If the solver is not installed, errors out, or ends with any status other than ``optimal``
        (``optimal_inaccurate``, ``infeasible``, ``unbounded``, an iteration limit, ...).
    """
    cp = import_cvxpy()
    name = solver.upper()
    start = time.perf_counter()
    raw = _attempt(cp, problem, name, _options(solver, tol), what)
    for retry in _CLARABEL_RETRIES if solver == "clarabel" else ():
        if problem.status != cp.OPTIMAL_INACCURATE:
            break
        raw = _attempt(cp, problem, name, _options(solver, tol, retry), what)
    elapsed = time.perf_counter() - start
    if problem.status != cp.OPTIMAL:
        raise SolverFailed(
            f"{what} was not solved to optimality; try the other solver or a looser tol",
            solver=name,
            status=str(problem.status),
        )
    if solver == "clarabel":
        primal, dual, iters = float(raw.obj_val), float(raw.obj_val_dual), int(raw.iterations)
    else:
        info = raw["info"]
        primal, dual, iters = float(info["pobj"]), float(info["dobj"]), int(info["iter"])
    return SolveInfo(name, str(problem.status), primal, dual, primal - dual, iters, elapsed)
