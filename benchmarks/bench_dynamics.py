"""Seconds per gradient-descent step on the CE UFM, five ways, for OMP_NUM_THREADS=1 and 2.

* ``ufm``: the numba whole-loop kernel (:func:`ufm.dynamics.gradient_descent`, records every 1000
  steps; its own kernel timer ``DescentResult.seconds``, which includes the records and the final
  one, not the random start or the Python validation);
* ``numpy``: a numpy loop with hand-written gradients (allocating temporaries, as scripts do);
* ``torch``: PyTorch autograd on the CPU (float64, plain SGD), the way published UFM experiments
  train (skipped with a note when torch is not installed: it is a ``bench`` extra, not a runtime
  dependency);
* ``blas``: the floor of the issue, the three matrix products a step needs (W H, G H^T, W^T G)
  alone, by numpy's BLAS into preallocated outputs (``np.dot(..., out=)``);
* ``blas_nb``: the same three products through the kernels' own BLAS calls (scipy's OpenBLAS, which
  numba uses; numpy ships a different OpenBLAS build), in one compiled loop
  (:func:`ufm.dynamics._kernels.matrix_products`), so no Python call overhead either.

Workloads S (K=4, d=8, n=20, T=20000), M (K=10, d=64, n=100, T=2000), L (K=100, d=512, n=20, T=200).
Each thread setting runs in a subprocess with OMP_NUM_THREADS (and MKL/OPENBLAS_NUM_THREADS) set
before numpy is imported. The machine is shared and noisy, so every method runs ``REPEATS`` times,
in an order rotated from round to round, and the table shows medians. numpy and torch time at most
``SLOW_STEPS`` steps per run (their per-step cost does not depend on the step count). Ratios
``ufm/blas`` and ``ufm/blas_nb`` are against the two floors; the issue's targets are ufm/floor <=
1.4 on M and <= 1.1 on L, and torch/ufm >= 100 on S.

Usage: ``python benchmarks/bench_dynamics.py [--quick] [--threads 1,2]``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

WORKLOADS = {"S": (4, 8, 20, 20000), "M": (10, 64, 100, 2000), "L": (100, 512, 20, 200)}
SLOW_STEPS = {"S": 2000, "M": 500, "L": 50}
LAMBDA = 5e-4
LR = 0.1
REPEATS = 5
METHODS = ("ufm", "numpy", "torch", "blas", "blas_nb")


def _numpy_loop(W, H, b, Y, T):
    import numpy as np

    W, H, b = W.copy(), H.copy(), b.copy()
    N = H.shape[1]
    for _ in range(T):
        Z = W @ H + b[:, None]
        E = np.exp(Z - Z.max(axis=0))
        G = (E / E.sum(axis=0) - Y) / N
        gW = G @ H.T + LAMBDA * W
        gH = W.T @ G + LAMBDA * H
        gb = G.sum(axis=1) + LAMBDA * b
        W -= LR * gW
        H -= LR * gH
        b -= LR * gb


def _blas_floor(W, H, Z, gW, gH, T):
    import numpy as np

    for _ in range(T):
        np.dot(W, H, out=Z)
        np.dot(Z, H.T, out=gW)
        np.dot(W.T, Z, out=gH)


def _torch_loop(torch, W0, H0, b0, labels, T):
    W = torch.tensor(W0, requires_grad=True)
    H = torch.tensor(H0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    target = torch.as_tensor(labels)
    opt = torch.optim.SGD([W, H, b], lr=LR)
    for _ in range(T):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy((W @ H + b[:, None]).T, target)
        reg = W.square().sum() + H.square().sum() + b.square().sum()
        (loss + LAMBDA / 2 * reg).backward()
        opt.step()


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def _runners(name: str, steps_scale: float, torch) -> tuple[dict, dict]:
    """Per-step timers of every method on one workload, and the step counts they run."""
    import numpy as np

    import ufm
    from ufm.dynamics import _kernels, gradient_descent, initialize

    K, d, n, T = WORKLOADS[name]
    T = max(10, int(T * steps_scale))
    slow = min(T, max(10, int(SLOW_STEPS[name] * steps_scale)))
    problem = ufm.Problem(
        loss="ce", K=K, d=d, n=n, lambda_W=LAMBDA, lambda_H=LAMBDA, lambda_b=LAMBDA,
        bias="regularized",
    )  # fmt: skip
    W0, H0, b0 = initialize(problem, 0, 1.0)
    Y = np.eye(K)[:, problem.labels]
    Z, gW, gH = np.empty((K, problem.N)), np.empty(W0.shape), np.empty(H0.shape)
    runners = {
        "ufm": lambda: gradient_descent(problem, steps=T, lr=LR, record_every=1000).seconds / T,
        "numpy": lambda: _timed(_numpy_loop, W0, H0, b0, Y, slow) / slow,
        "blas": lambda: _timed(_blas_floor, W0, H0, Z, gW, gH, T) / T,
        "blas_nb": lambda: _timed(_kernels.matrix_products, W0, H0, Z, gW, gH, T) / T,
    }
    if torch is not None:
        runners["torch"] = lambda: (
            _timed(_torch_loop, torch, W0, H0, b0, problem.labels, slow) / slow
        )
    gradient_descent(problem, steps=2, lr=LR)  # compile / load the cache outside the timing
    _kernels.matrix_products(W0, H0, Z, gW, gH, 1)
    return runners, {"steps": T, "slow_steps": slow}


def _measure(steps_scale: float, threads: int) -> dict:
    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(threads)
    out = {}
    for name in WORKLOADS:
        runners, row = _runners(name, steps_scale, torch)
        order = [m for m in METHODS if m in runners]
        samples = {m: [] for m in order}
        load = os.getloadavg()[0]
        for r in range(REPEATS):
            for m in order[r % len(order) :] + order[: r % len(order)]:
                samples[m].append(runners[m]())
        row.update({m: statistics.median(samples.get(m, [])) if m in samples else None
                    for m in METHODS})  # fmt: skip
        row["loadavg"] = (load + os.getloadavg()[0]) / 2
        out[name] = row
    return out


def _cell(value) -> str:
    if value is None:
        return f"{'n/a':>9}"
    if isinstance(value, float):
        return f"{value:>9.3g}" if value < 0.1 else f"{value:>9.2f}"
    return f"{value:>9}"


def _ratio(a, b):
    return None if a is None or b is None else a / b


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the steps")
    parser.add_argument(
        "--threads", default="1,2", help="comma-separated thread counts (default 1,2)"
    )
    parser.add_argument("--child", nargs=2, metavar=("SCALE", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(float(args.child[0]), int(args.child[1]))))
        return
    scale = 0.1 if args.quick else 1.0
    threads_list = tuple(int(t) for t in args.threads.split(","))
    print(f"seconds per step, median of {REPEATS} rotated repeats; loadavg = 1-min load during")
    columns = ("threads", "workload", "loadavg", "steps") + METHODS
    ratios = ("torch/ufm", "numpy/ufm", "ufm/blas", "ufm/blas_nb")
    header = " ".join(f"{c:>9}" for c in columns + ratios)
    print(header)
    print("-" * len(header))
    missing_torch = False
    for threads in threads_list:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                   OPENBLAS_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads))  # fmt: skip
        proc = subprocess.run([sys.executable, __file__, "--child", str(scale), str(threads)],
                              env=env, capture_output=True, text=True, check=True)  # fmt: skip
        rows = json.loads(proc.stdout.strip().splitlines()[-1])
        for name, r in rows.items():
            missing_torch |= r["torch"] is None
            cells = (threads, name, r["loadavg"], r["steps"]) + tuple(r[m] for m in METHODS)
            cells += (_ratio(r["torch"], r["ufm"]), _ratio(r["numpy"], r["ufm"]),
                      _ratio(r["ufm"], r["blas"]), _ratio(r["ufm"], r["blas_nb"]))  # fmt: skip
            print(" ".join(_cell(c) for c in cells), flush=True)
    if missing_torch:
        print("note: torch is not installed (pip install 'ufm[bench]'); its column is skipped.")


if __name__ == "__main__":
    main()
