"""Seconds per gradient-descent step on the CE UFM, four ways, for OMP_NUM_THREADS=1 and 2.

* ``ufm``: the numba whole-loop kernel (:func:`ufm.dynamics.gradient_descent`, records every 1000
steps);
* ``numpy``: a numpy loop with hand-written gradients (allocating temporaries, as scripts do);
* ``torch``: PyTorch autograd on the CPU (float64, plain SGD), the way published UFM experiments
train
  (skipped with a note when torch is not installed: it is a ``bench`` extra, not a runtime
  dependency);
* ``blas``: the floor, the three matrix products a step needs (W H, G H^T, W^T G) alone, into
  preallocated outputs.

Workloads S (K=4, d=8, n=20, T=20000), M (K=10, d=64, n=100, T=2000), L (K=100, d=512, n=20, T=200).
Each thread setting runs in a subprocess with OMP_NUM_THREADS (and MKL/OPENBLAS_NUM_THREADS) set
before numpy is imported. Usage: ``python benchmarks/bench_dynamics.py [--quick]``.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time

WORKLOADS = {"S": (4, 8, 20, 20000), "M": (10, 64, 100, 2000), "L": (100, 512, 20, 200)}
LAMBDA = 5e-4
LR = 0.1


def _best(fn, *args, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


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


def _blas_floor(W, H, T):
    import numpy as np

    K, N = W.shape[0], H.shape[1]
    Z, gW, gH = np.empty((K, N)), np.empty(W.shape), np.empty(H.shape)
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


def _measure(steps_scale: float) -> dict:
    import numpy as np

    import ufm
    from ufm.dynamics import gradient_descent, initialize

    out = {}
    for name, (K, d, n, T) in WORKLOADS.items():
        T = max(10, int(T * steps_scale))
        problem = ufm.Problem(
            loss="ce", K=K, d=d, n=n, lambda_W=LAMBDA, lambda_H=LAMBDA, lambda_b=LAMBDA,
            bias="regularized",
        )  # fmt: skip
        gradient_descent(problem, steps=2, lr=LR)  # compile / load the cache outside the timing
        descent = functools.partial(gradient_descent, steps=T, lr=LR, record_every=1000)
        W0, H0, b0 = initialize(problem, 0, 1.0)
        Y = np.eye(K)[:, problem.labels]
        row = {
            "ufm": _best(descent, problem) / T,
            "numpy": _best(_numpy_loop, W0, H0, b0, Y, T, repeats=1) / T,
            "blas": _best(_blas_floor, W0, H0, T) / T,
            "torch": None,
            "steps": T,
        }
        try:
            import torch
        except ImportError:
            pass
        else:
            torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
            row["torch"] = _best(_torch_loop, torch, W0, H0, b0, problem.labels, T, repeats=1) / T
        out[name] = row
    return out


def _cell(value) -> str:
    if value is None:
        return f"{'n/a':>10}"
    if isinstance(value, float):
        return f"{value:>10.3e}" if value < 0.1 else f"{value:>10.2f}"
    return f"{value:>10}"


def main() -> None:
    if "--child" in sys.argv:
        print(json.dumps(_measure(float(sys.argv[sys.argv.index("--child") + 1]))))
        return
    scale = 0.1 if "--quick" in sys.argv else 1.0
    print("seconds per step (best of runs); ratios: numpy/ufm, torch/ufm, ufm/blas floor")
    columns = ("threads", "load", "steps", "ufm", "numpy", "torch", "blas")
    ratios = ("numpy/ufm", "torch/ufm", "ufm/blas")
    header = " ".join(f"{c:>10}" for c in columns + ratios)
    print(header)
    print("-" * len(header))
    missing_torch = False
    for threads in (1, 2):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                   OPENBLAS_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads))  # fmt: skip
        proc = subprocess.run([sys.executable, __file__, "--child", str(scale)], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        rows = json.loads(proc.stdout.strip().splitlines()[-1])
        for name, r in rows.items():
            missing_torch |= r["torch"] is None
            torch_ratio = None if r["torch"] is None else r["torch"] / r["ufm"]
            cells = (threads, name, r["steps"], r["ufm"], r["numpy"], r["torch"], r["blas"],
                     r["numpy"] / r["ufm"], torch_ratio, r["ufm"] / r["blas"])  # fmt: skip
            print(" ".join(_cell(c) for c in cells))
    if missing_torch:
        print("note: torch is not installed (pip install 'ufm[bench]'); its column is skipped.")


if __name__ == "__main__":
    main()
