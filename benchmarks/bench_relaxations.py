"""Timing of ufm.relaxations against K, with and without the within-class symmetry reduction.

Run with ``OMP_NUM_THREADS=1 python benchmarks/bench_relaxations.py``. Prints one table per
relaxation; the ratio column compares the unreduced (K x N) and reduced (K x K) nuclear-norm
programs measured in the same run. Targets: reduced nuclear-norm problem at K = 50 under 10 s;
Minority Collapse sweep with K_A = K_B = 5 (sweep plus bisection) under a minute.
"""

from __future__ import annotations

import time

from ufm import Problem
from ufm.relaxations import layer_peeled_sdp, minority_collapse_sweep, nuclear_relaxation

#: Samples per class in the nuclear-norm benchmark; the unreduced program has K + N = K (1 + n)
#: rows in its PSD cone, so it is timed only up to UNREDUCED_MAX_K.
N_PER_CLASS = 3
UNREDUCED_MAX_K = 10


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _table(headers, rows):
    rows = [[f"{c:.4g}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()


def bench_nuclear(Ks=(2, 3, 5, 8, 10, 15, 20, 30, 40, 50)):
    rows = []
    for K in Ks:
        p = Problem(
            loss="ce",
            K=K,
            d=K,
            n=N_PER_CLASS,
            lambda_W=5e-3,
            lambda_H=5e-3,
            lambda_b=1e-2,
            bias="regularized",
        )
        red, t_red = _timed(lambda p=p: nuclear_relaxation(p))
        scs, t_scs = _timed(lambda p=p: nuclear_relaxation(p, solver="scs"))
        if K <= UNREDUCED_MAX_K:
            full, t_full = _timed(lambda p=p: nuclear_relaxation(p, reduced=False))
            diff = abs(full.objective - red.objective)
            rows.append([K, t_red, t_scs, t_full, t_full / t_red, diff])
        else:
            rows.append([K, t_red, t_scs, "-", "-", "-"])
    print(f"nuclear-norm certificate, CE, regularized bias, n = {N_PER_CLASS} per class (seconds)")
    _table(["K", "reduced", "reduced SCS", "unreduced", "ratio", "|value diff|"], rows)


def bench_lpm(Ks=(2, 3, 5, 8, 10, 15, 20, 30, 40, 50)):
    rows = []
    for K in Ks:
        sizes = tuple(10 if k < K // 2 else 1 for k in range(K))
        res, t = _timed(lambda K=K, sizes=sizes: layer_peeled_sdp(K, sizes, 1.0, 1.0))
        rows.append([K, t, res.rank, res.duality_gap])
    print("layer-peeled SDP, half the classes 10x larger, E_W = E_H = 1 (seconds)")
    _table(["K", "time", "rank", "duality gap"], rows)


def bench_minority():
    ratios = (1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)
    sweep, t = _timed(lambda: minority_collapse_sweep(5, 5, 1.0, 1.0, ratios, xtol=1e-4))
    th = sweep.threshold
    print("Minority Collapse sweep, K_A = K_B = 5, E_W = E_H = 1, bisection to xtol = 1e-4")
    _table(
        ["solves", "time", "threshold", "accuracy"],
        [[len(ratios) + th.solves, t, th.threshold, th.accuracy]],
    )


if __name__ == "__main__":
    bench_nuclear()
    bench_lpm()
    bench_minority()
