"""``ufm.measure`` on synthetic ImageNet-shaped features written to disk: time and peak memory
against the I/O floor and the in-memory ``ufm.nc_metrics``, measured in the same run.

Features: K classes, d dimensions, N samples (float32, shape (N, d), a ``.npy`` file), class means
of norm ~3 plus unit Gaussian noise, labels shuffled; a random classifier W, b (so the NC4 pass
runs). The issue's full size is K = 1000, d = 2048, N = 1.28 M (10.5 GB); the default sizes keep
K and d and scale N down, so that the growth in N shows (time linear in N, memory flat).

Columns:

* ``read``: the I/O floor, reading the file once chunk by chunk (plain reads, as ``measure``
  does) and converting each chunk to float64 (page cache as the file was left after writing: warm
  on a machine with enough RAM; the ratio against a cold read would be smaller), run before and
  after the other steps, the faster of the two kept (on a loaded machine: the conservative ratio);
* ``measure``: ``ufm.measure(path, labels, W, b)``, two passes (statistics with the d x d scatter,
  then NC4), everything included; ``ratio`` = measure / read;
* ``trace``: ``covariance=False`` (no d x d scatter, no nc1), still with W (so the NC4 pass, 4 N d K
  flops, runs); ``ratio_t`` = trace / read;
* ``feat``: ``covariance=False`` and no classifier: the feature metrics in one pass (no GEMM of
  N d^2 or N d K flops), the configuration that can reach the I/O floor; ``ratio_f`` = feat / read;
* ``in_mem``: ``ufm.nc_metrics`` on the whole array loaded as float64 (skipped above
  ``--in-memory-max`` GB);
* ``peak_*``: peak resident memory (``ru_maxrss``) of the subprocess that ran the step, MB.

Every step runs in its own subprocess with OMP_NUM_THREADS=1 (set before numpy is imported), so the
peaks do not mix. felixsh/nc-toolbox and rhubarbwu/neural-collapse are in-memory (the latter torch)
libraries; they are not dependencies of ufm, and this script compares against them only when they
are importable (``nc_toolbox``, ``neural_collapse``), else says so.

Usage: ``python benchmarks/bench_measure.py [--quick] [--K 1000 --d 2048 --N 16000,64000]
[--dir /tmp/ufm-bench]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _write(folder: Path, K: int, d: int, N: int, seed: int = 0) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    means = 3.0 * rng.normal(size=(K, d)).astype(np.float32) / np.sqrt(d)
    labels = rng.integers(0, K, size=N)
    labels[:K] = np.arange(K)  # every class present
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float32, shape=(N, d))
    step = max(1, 2**24 // d)
    for a in range(0, N, step):
        b = min(N, a + step)
        X[a:b] = means[labels[a:b]] + rng.normal(size=(b - a, d)).astype(np.float32)
    X.flush()
    del X
    np.save(folder / "y.npy", labels)
    np.save(folder / "W.npy", rng.normal(size=(K, d)))
    np.save(folder / "b.npy", rng.normal(size=K))
    return {"bytes": N * d * 4}


STEP_CODE = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np
import ufm
import ufm.measure
from ufm.measure import CHUNK_BYTES
from ufm.measure._readers import NpyRows
folder, step = Path(sys.argv[1]), sys.argv[2]
t = time.perf_counter()
if step == "read":
    X = NpyRows(folder / "X.npy")
    rows = max(1, CHUNK_BYTES // (8 * X.shape[1]))
    total = 0.0
    for a in range(0, X.shape[0], rows):
        total += float(np.asarray(X[a:a + rows], dtype=np.float64)[:, 0].sum())
elif step in ("measure", "trace", "feat"):
    W, b = (None, None) if step == "feat" else (str(folder / "W.npy"), str(folder / "b.npy"))
    m = ufm.measure(str(folder / "X.npy"), str(folder / "y.npy"), W, b,
                    covariance=(step == "measure"), memory_limit=8 * 2**30)
    total = m.metrics["nc1_trace_ratio"]
elif step == "in_mem":
    H = np.load(folder / "X.npy").astype(np.float64).T
    total = ufm.nc_metrics(np.load(folder / "W.npy"), H, np.load(folder / "b.npy"),
                           np.load(folder / "y.npy"))["nc1_trace_ratio"]
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "value": total}))
"""


def _run(folder: Path, step: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    proc = subprocess.run(
        [sys.executable, "-c", STEP_CODE, str(folder), step],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="K=100, d=256, N=20000,80000")
    parser.add_argument("--K", type=int, default=1000)
    parser.add_argument("--d", type=int, default=2048)
    parser.add_argument("--N", default="16000,64000", help="comma-separated sample counts")
    parser.add_argument("--in-memory-max", type=float, default=2.0, help="GB of float64 H")
    parser.add_argument("--dir", default=None, help="folder for the data (default: a temp dir)")
    args = parser.parse_args()
    K, d, sizes = args.K, args.d, [int(n) for n in args.N.split(",")]
    if args.quick:
        K, d, sizes = 100, 256, [20000, 80000]
    for name in ("nc_toolbox", "neural_collapse"):
        if importlib.util.find_spec(name) is None:
            print(f"# {name}: not importable, not compared (in-memory library, not a dependency)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# K={K} d={d} float32 (N, d) .npy, OMP_NUM_THREADS=1, load average {load}")
    header = (
        "N",
        "GB",
        "read_s",
        "measure_s",
        "ratio",
        "trace_s",
        "ratio_t",
        "feat_s",
        "ratio_f",
        "in_mem_s",
        "peak_measure_MB",
        "peak_trace_MB",
        "peak_feat_MB",
        "peak_in_mem_MB",
    )
    print("  ".join(f"{h:>15}" for h in header))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        for N in sizes:
            info = _write(folder, K, d, N)
            first = _run(folder, "read")
            full = _run(folder, "measure")
            trace = _run(folder, "trace")
            feat = _run(folder, "feat")
            read = min(first, _run(folder, "read"), key=lambda r: r["seconds"])
            in_mem = None
            if N * d * 8 / 1e9 <= args.in_memory_max:
                in_mem = _run(folder, "in_mem")
                assert abs(in_mem["value"] - full["value"]) <= 1e-9 * abs(full["value"])
            row = (
                N,
                f"{info['bytes'] / 1e9:.3f}",
                f"{read['seconds']:.2f}",
                f"{full['seconds']:.2f}",
                f"{full['seconds'] / read['seconds']:.1f}",
                f"{trace['seconds']:.2f}",
                f"{trace['seconds'] / read['seconds']:.1f}",
                f"{feat['seconds']:.2f}",
                f"{feat['seconds'] / read['seconds']:.1f}",
                "-" if in_mem is None else f"{in_mem['seconds']:.2f}",
                f"{full['peak_mb']:.0f}",
                f"{trace['peak_mb']:.0f}",
                f"{feat['peak_mb']:.0f}",
                "-" if in_mem is None else f"{in_mem['peak_mb']:.0f}",
            )
            print("  ".join(f"{c:>15}" for c in map(str, row)), flush=True)


if __name__ == "__main__":
    main()
