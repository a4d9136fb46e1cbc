"""Timing of ufm.relaxations against K, with and without the symmetry reductions.

Run with ``OMP_NUM_THREADS=1 python benchmarks/bench_relaxations.py``. The nuclear-norm table
compares, in the same run, the three forms of :func:`ufm.relaxations.nuclear_relaxation`: the
class-exchange program (``symmetry='classes'``, the default: a 2G x 2G PSD block for G distinct
class sizes), the per-class program (``'samples'``, 2K x 2K) and the unreduced program (``'none'``,
(K + N) x (K + N)), the slower ones only up to where they are affordable, with time ratios and the
largest difference of optimal values. The layer-peeled table compares the class-exchange SDP with
the full 2K x 2K SDP. Targets: nuclear-norm problem at K = 50 under 10 s (balanced and two-size
imbalanced); Minority Collapse sweep with K_A = K_B = 5 (sweep plus bisection) under a minute.
"""

from __future__ import annotations

import time

from ufm import Problem
from ufm.relaxations import layer_peeled_sdp, minority_collapse_sweep, nuclear_relaxation

#: Samples per class in the nuclear-norm benchmark (the imbalanced case has half the classes of
#: size N_PER_CLASS and half of size 1). Largest K timed for each slower form: the per-class
#: program's dense 2K x 2K factorization takes ~90 s at K = 50, the unreduced one grows with N.
N_PER_CLASS = 3
SAMPLES_MAX_K = 30
UNREDUCED_MAX_K = 10
LPM_FULL_MAX_K = 30
KS = (2, 3, 5, 8, 10, 15, 20, 30, 40, 50)


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


def _nuclear_problem(K: int, balanced: bool) -> Problem:
    sizes = (
        (N_PER_CLASS,) * K
        if balanced
        else tuple(N_PER_CLASS if k < K // 2 else 1 for k in range(K))
    )
    return Problem(
        loss="ce",
        K=K,
        d=K,
        class_sizes=sizes,
        lambda_W=5e-3,
        lambda_H=5e-3,
        lambda_b=1e-2,
        bias="regularized",
    )


def bench_nuclear(Ks=KS):
    # Untimed warm-up, so that the first row does not time cvxpy's import and first compilation.
    nuclear_relaxation(_nuclear_problem(2, True))
    rows = []
    for balanced in (True, False):
        for K in Ks:
            p = _nuclear_problem(K, balanced)
            cls, t_cls = _timed(lambda p=p: nuclear_relaxation(p))
            row = [K, "balanced" if balanced else "two sizes", t_cls]
            values = [cls.objective]
            for sym, max_K in (("samples", SAMPLES_MAX_K), ("none", UNREDUCED_MAX_K)):
                if K <= max_K:
                    other, t = _timed(lambda p=p, sym=sym: nuclear_relaxation(p, symmetry=sym))
                    row += [t, t / t_cls]
                    values.append(other.objective)
                else:
                    row += ["-", "-"]
            row.append(max(values) - min(values) if len(values) > 1 else "-")
            rows.append(row)
    print(
        f"nuclear-norm certificate, CE, regularized bias, Clarabel; classes of size {N_PER_CLASS}"
        " (balanced) or half of them of size 1 (two sizes); seconds, ratio = form / classes"
    )
    _table(
        ["K", "sizes", "classes", "samples", "ratio", "none", "ratio", "|value diff|"],
        rows,
    )


def bench_lpm(Ks=KS):
    rows = []
    for K in Ks:
        sizes = tuple(10 if k < K // 2 else 1 for k in range(K))
        res, t = _timed(lambda K=K, sizes=sizes: layer_peeled_sdp(K, sizes, 1.0, 1.0))
        row = [K, t]
        if K <= LPM_FULL_MAX_K:
            full, t_full = _timed(
                lambda K=K, sizes=sizes: layer_peeled_sdp(K, sizes, 1.0, 1.0, symmetry="none")
            )
            row += [t_full, t_full / t, abs(full.objective - res.objective)]
        else:
            row += ["-", "-", "-"]
        rows.append(row + [res.rank, res.duality_gap])
    print("layer-peeled SDP, half the classes 10x larger, E_W = E_H = 1 (seconds)")
    _table(["K", "classes", "full", "ratio", "|value diff|", "rank", "duality gap"], rows)


def bench_minority():
    ratios = (1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)
    sweep, t = _timed(lambda: minority_collapse_sweep(5, 5, 1.0, 1.0, ratios, xtol=1e-4))
    th = sweep.threshold
    print("Minority Collapse sweep, K_A = K_B = 5, E_W = E_H = 1, bisection to xtol = 1e-4")
    _table(
        ["solves", "time", "threshold", "accuracy"],
        [[len(ratios) + th.solves, t, th.threshold, th.accuracy]],
    )


BENCHES = {"nuclear": bench_nuclear, "lpm": bench_lpm, "minority": bench_minority}


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", choices=sorted(BENCHES), action="append", help="run only this table (repeatable)"
    )
    args = parser.parse_args(argv)
    for name in args.only or BENCHES:
        BENCHES[name]()


if __name__ == "__main__":
    main()
