"""Paths x steps per second of ufm's LE-SDE simulation against numpy baselines, same run, 1 thread.

Workload of issue 10: K = 10 classes, n = 50 samples per class, d = 10, 1,000 paths, the I and
L models (alpha = 1, beta = 0.5, sigma = 0.1, dt = 0.01). Methods:

* ``ufm``: :func:`ufm.dynamics.simulate_lesde` (the numba kernel in modal coordinates: class-mean
  modes stepped by Euler-Maruyama, within-class deviations drawn once per record interval, which
  is exact in law since they have no drift), warm (compiled before timing), records=2;
* ``numpy-paths``: a numpy Euler-Maruyama loop over the features x_i of every sample, path by path
  (vectorized over the N samples of a path, a Python loop over paths), as a script would write
  the SDE dx_i = (1/N) sum_j E_{y_i y_j} Pi_{y_j} x_j dt + sigma dB_i;
* ``numpy-vectorized``: the same Euler-Maruyama on the features of all paths at once (P x d x N
  arrays, class sums by reshaping);
* ``numpy-modal``: ufm's own algorithm in vectorized numpy (modes Y stepped as P x q arrays by one
  matrix product per step, deviations drawn once), the fair test of the compiled kernel itself.

Before timing, every baseline is checked against ufm on a noiseless run from a common start (final
features equal to 1e-9 relative), so the table compares implementations of one model. Each method
runs ``REPEATS`` times (medians shown) and is timed in CPU seconds of this process
(``time.process_time``: one thread, and the machine is shared, so wall-clock time would charge
other users' load to whichever method ran during it); slow baselines time fewer paths or steps
(their cost per path-step does not depend on those counts). The table shows paths x steps per
second and the ratio ufm / method (> 1: ufm is faster).

Usage: ``python benchmarks/bench_lesde.py [--quick]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

K, N_PER, D, PATHS = 10, 50, 10, 1000
ALPHA, BETA, SIGMA, DT = 1.0, 0.5, 0.1, 0.01
REPEATS = 3
#: (paths, steps) each method times; ufm and numpy-modal run the issue's 1,000 paths.
SIZES = {
    "ufm": (PATHS, 400),
    "numpy-paths": (20, 100),
    "numpy-vectorized": (PATHS, 10),
    "numpy-modal": (PATHS, 400),
}
METHODS = tuple(SIZES)


def _operators(model):
    """E (K x K) and the projections Pi (K x d x d) of the model (identity for I)."""
    import numpy as np

    from ufm.dynamics._lesde_model import _projections

    E = (ALPHA - BETA) * np.eye(K) + BETA * np.ones((K, K))
    Pi = np.broadcast_to(np.eye(D), (K, D, D)) if model == "I" else _projections(K, D)
    return E, np.ascontiguousarray(Pi)


def _drift(X, E, Pi, model):
    """(1/N) sum_j E_{y_i y_j} Pi_{y_j} x_j for features X (..., d, N), samples grouped by class."""
    import numpy as np

    shape = X.shape
    sums = X.reshape(*shape[:-1], K, N_PER).sum(axis=-1)
    if model == "L":
        sums = np.einsum("cij,...jc->...ic", Pi, sums)
    return np.repeat(sums @ E / (K * N_PER), N_PER, axis=-1)


def numpy_paths(X, model, steps, sigma, rng):
    for p in range(X.shape[0]):
        numpy_vectorized(X[p], model, steps, sigma, rng)
    return X


def numpy_vectorized(X, model, steps, sigma, rng):
    """Euler-Maruyama on features X (..., d, N) in place, all leading indices at once."""
    E, Pi = _operators(model)
    for _ in range(steps):
        X += DT * _drift(X, E, Pi, model)
        if sigma:
            X += sigma * math.sqrt(DT) * rng.standard_normal(X.shape)
    return X


def numpy_modal(X, model, steps, sigma, rng):
    import numpy as np

    from ufm.dynamics import _lesde_model as mdl

    Y, Z = mdl.to_modes(X, K, N_PER)
    A_alpha, A_beta, _ = mdl.assemble(mdl.mode_blocks(model, K, D), D * K)
    step = np.eye(D * K) + DT * (ALPHA * A_alpha + BETA * A_beta)
    for _ in range(steps):
        Y = Y @ step.T
        if sigma:
            Y += sigma * math.sqrt(DT / N_PER) * rng.standard_normal(Y.shape)
    if sigma:
        Z = Z + sigma * math.sqrt(DT * steps) * rng.standard_normal(Z.shape)
    return mdl.features(Y, np.zeros_like(Y), Z, K, N_PER)


def run_ufm(X, model, steps, sigma, seed):
    from ufm.dynamics import simulate_lesde

    result = simulate_lesde(
        K, N_PER, D, ALPHA, BETA, sigma, steps * DT, model=model, dt=DT, paths=X.shape[0],
        seed=seed, records=2, init=X,
    )  # fmt: skip
    return result.final


BASELINES = {"numpy-paths": numpy_paths, "numpy-vectorized": numpy_vectorized,
             "numpy-modal": numpy_modal}  # fmt: skip


def check_baselines(model) -> None:
    """Noiseless runs from one start: every baseline's final features equal ufm's."""
    import numpy as np

    X0 = np.random.default_rng(0).standard_normal((3, D, K * N_PER))
    want = run_ufm(X0.copy(), model, 50, 0.0, 0)
    for name, method in BASELINES.items():
        got = method(X0.copy(), model, 50, 0.0, None)
        error = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        if error > 1e-9:
            raise SystemExit(
                f"{name} disagrees with ufm on the noiseless {model} model: {error:.2e}"
            )


def time_method(name, model, repeats, scale):
    """Median paths x steps per second of ``name`` over ``repeats`` runs."""
    import numpy as np

    paths, steps = SIZES[name]
    steps = max(1, int(steps * scale))
    rates = []
    for r in range(repeats):
        X = 0.1 * np.random.default_rng(r).standard_normal((paths, D, K * N_PER))
        start = time.process_time()
        if name == "ufm":
            run_ufm(X, model, steps, SIGMA, r)
        else:
            BASELINES[name](X, model, steps, SIGMA, np.random.default_rng(r))
        rates.append(paths * steps / (time.process_time() - start))
    return statistics.median(rates)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, a quarter of the steps")
    args = parser.parse_args(argv)
    repeats, scale = (1, 0.25) if args.quick else (REPEATS, 1.0)
    import numpy as np

    print(f"K={K}, n={N_PER}, d={D}, paths={PATHS}, dt={DT}, OMP_NUM_THREADS=1, "
          f"numpy {np.__version__}; medians of {repeats} runs")  # fmt: skip
    header = f"{'model':5}  {'method':17}  {'paths x steps / s':>17}  {'ufm / method':>12}"
    print(header)
    print("-" * len(header))
    for model in ("I", "L"):
        check_baselines(model)
        run_ufm(np.zeros((1, D, K * N_PER)), model, 2, SIGMA, 0)  # compile outside the timing
        rates = {name: time_method(name, model, repeats, scale) for name in METHODS}
        for name in METHODS:
            ratio = rates["ufm"] / rates[name]
            print(f"{model:5}  {name:17}  {rates[name]:17.4g}  {ratio:12.3g}")


if __name__ == "__main__":
    main()
