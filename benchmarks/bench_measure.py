"""``ufm.measure`` on synthetic ImageNet-shaped features written to disk: time and peak memory
against the I/O floor (warm and cold), the arithmetic floor and the in-memory ``ufm.nc_metrics``,
measured in the same run; optionally next to felixsh/nc-toolbox and rhubarbwu/neural-collapse.

Features: K classes, d dimensions, N samples (float32, shape (N, d), a ``.npy`` file), class means
of norm ~3 plus unit Gaussian noise, labels shuffled; a random classifier W, b (so the NC4 pass
runs). The issue's full size is K = 1000, d = 2048, N = 1.28 M (10.5 GB); the default sizes keep
K and d and scale N down, so that the growth in N shows (time linear in N, memory flat). The data
folder (``--dir``, default a temporary one) is deleted at the end.

Steps (``--steps``, each in its own subprocess with ``OMP_NUM_THREADS=--threads`` set before numpy
is imported, so the timings and peaks do not mix):

* ``read``: the warm I/O floor, reading the file once chunk by chunk (plain reads, as ``measure``
  does) and converting each chunk to float64, from the page cache as the other steps left it; run
  first and last, the faster kept (on a loaded machine: the conservative ratio). The ratios
  ``Nx read`` use this one, the stricter floor;
* ``cold``: the same read after ``fsync`` and ``posix_fadvise(POSIX_FADV_DONTNEED)`` dropped the
  file from the page cache (the disk's speed);
* ``measure``: ``ufm.measure(path, labels, W, b)``, two passes (statistics with the d x d scatter,
  then NC4), everything included;
* ``projected``: ``covariance='projected'``: nc1 from the scatter on the span of the centred means,
  accumulated on the NC4 pass; every metric of ``measure`` but ``effective_rank_within/features``;
* ``trace``: ``covariance=False`` (no nc1), still with W (so the NC4 pass runs);
* ``feat``: ``covariance=False`` and no classifier: the feature metrics in one pass;
* ``floor``: the arithmetic floor of ``measure``, ``projected`` and ``trace``: the median time of
  one chunk's matrix products on random data of the chunk's shape (``--floor-reps`` timings) times
  the number of chunks: R^T R (syrk, N d (d+1)/2 multiply-adds in all) for the d x d scatter, R U
  (N d r, r = min(K - 1, d)) for the projected one, X [M | W^T] (2 N d K) for NC4;
* ``in_mem``: ``ufm.nc_metrics`` on the whole array loaded as float64 (skipped above
  ``--in-memory-max`` GB); its nc1 must equal the streamed ones to 1e-9;
* ``--ref-path NAME=DIR``: a reference library imported from its source tree DIR (``nc-toolbox``,
  numpy; ``neural-collapse``, torch, found through ``--ref-site DIR`` if installed with
  ``pip --target``), run on the whole array in memory (float64) with its documented calls, timed
  (imports excluded) next to ``ufm.nc_metrics`` with the matching conventions (those of
  ``tests/test_measure_references.py``); the values of both and their relative deviation are in
  the ``--json`` output. Neither library is a dependency of ufm, nor copied into it;
* ``peak``: the step's own peak resident memory (``VmHWM``), MB.

Usage: ``python benchmarks/bench_measure.py [--quick] [--K 1000 --d 2048 --N 16000,64000]
[--threads 1] [--steps read,cold,floor,measure] [--json] [--dir /tmp/ufm-bench]
[--ref-path nc-toolbox=DIR] [--ref-path neural-collapse=DIR --ref-site TORCH_DIR]``.
"""

from __future__ import annotations

import argparse
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
        X[a:b] = means[labels[a:b]] + rng.standard_normal(size=(b - a, d), dtype=np.float32)
    X.flush()
    del X
    np.save(folder / "y.npy", labels)
    np.save(folder / "W.npy", rng.normal(size=(K, d)))
    np.save(folder / "b.npy", rng.normal(size=K))
    return {"bytes": N * d * 4}


STEP_CODE = r"""
import json, os, resource, sys, time
from pathlib import Path
import numpy as np
import ufm
import ufm.measure
from ufm.measure import CHUNK_BYTES
from ufm.measure._readers import NpyRows
from ufm.tolerances import relative_deviation
folder, step = Path(sys.argv[1]), sys.argv[2]
extra = sys.argv[3:]
t = time.perf_counter()
if step in ("read", "cold"):
    if step == "cold":
        # drop the file's pages from the page cache (fsync first: dirty pages are not dropped)
        fd = os.open(folder / "X.npy", os.O_RDONLY)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        t = time.perf_counter()
    X = NpyRows(folder / "X.npy")
    rows = max(1, CHUNK_BYTES // (8 * X.shape[1]))
    total = 0.0
    for a in range(0, X.shape[0], rows):
        total += float(np.asarray(X[a:a + rows], dtype=np.float64)[:, 0].sum())
elif step == "floor":
    # the engine's matrix products on random data of one chunk's shape, the median of REPS timings
    # times the number of chunks: R^T R (syrk, n x d) for the d x d scatter, R U (U: d x r,
    # r = min(K - 1, d)) for the projected one, X [M | W^T] (d x 2K) for NC4
    N, d, K, reps = map(int, extra[:4])
    mode, classifier = extra[4], extra[5] == "1"
    n = min(N, max(1, CHUNK_BYTES // (8 * d)))
    rng = np.random.default_rng(0)
    X, B = rng.normal(size=(n, d)), rng.normal(size=(d, 2 * K))
    U = rng.normal(size=(d, min(K - 1, d)))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        if mode == "measure":
            X.T @ X
        if mode == "projected":
            X @ U
        if classifier:
            X @ B
        times.append(time.perf_counter() - t)
    total = float(np.median(times)) * -(-N // n)
elif step in ("measure", "projected", "trace", "feat"):
    W, b = (None, None) if step == "feat" else (str(folder / "W.npy"), str(folder / "b.npy"))
    covariance = {"measure": True, "projected": "projected"}.get(step, False)
    m = ufm.measure(str(folder / "X.npy"), str(folder / "y.npy"), W, b,
                    covariance=covariance, memory_limit=8 * 2**30)
    total = m.metrics["nc1" if step in ("measure", "projected") else "nc1_trace_ratio"]
elif step == "in_mem":
    H = np.load(folder / "X.npy").astype(np.float64).T
    total = ufm.nc_metrics(np.load(folder / "W.npy"), H, np.load(folder / "b.npy"),
                           np.load(folder / "y.npy"))["nc1"]
elif step == "ref":
    # a reference library (its source tree on sys.path) on the whole array in memory, next to
    # ufm.nc_metrics in memory with the conventions that match it (see the module docstring)
    name, tree, site = extra[0], extra[1], extra[2:]
    sys.path.insert(0, tree)
    sys.path.extend(site)
    H = np.load(folder / "X.npy").astype(np.float64)
    y, W, b = (np.load(folder / f"{k}.npy") for k in ("y", "W", "b"))
    K = W.shape[0]
    if name == "nc-toolbox":
        import nc_toolbox as nct
        t = time.perf_counter()  # imports excluded (torch takes ~20 s)
        mu_c, mu_g = nct.class_embedding_means(H, y), nct.global_embedding_mean(H)
        between, within = nct.nc1_weak(H, y, mu_c, mu_g)
        ref = {"nc1": nct.nc1_strong(H, y, mu_c, mu_g), "nc1_trace_ratio": within / between,
               "nc3_papyan": nct.nc3_self_duality(W, mu_c, mu_g),
               "nc4": nct.nc4_classifier_agreement(H, W, b, mu_c)}
        conv = {"nc4_as": "agreement"}
    elif name == "neural-collapse":
        import torch as pt
        from neural_collapse.accumulate import (CovarAccumulator, DecAccumulator,
                                                MeanAccumulator, VarNormAccumulator)
        from neural_collapse.measure import (clf_ncc_agreement, covariance_ratio,
                                             self_duality_error, simplex_etf_error,
                                             variability_cdnv)
        pt.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        t = time.perf_counter()
        X, Y, Wt = pt.from_numpy(H), pt.from_numpy(y), pt.from_numpy(W)
        rows = max(1, CHUNK_BYTES // (8 * H.shape[1]))
        batches = [(X[a:a + rows], Y[a:a + rows]) for a in range(0, len(y), rows)]
        args = (K, H.shape[1], "cpu", pt.float64)
        means = MeanAccumulator(*args)
        for Xb, Yb in batches:
            means.accumulate(Xb, Yb)
        M, m_G = means.compute()
        var, cov = VarNormAccumulator(*args, M=M), CovarAccumulator(*args, M=M)
        dec = DecAccumulator(*args, M=M, W=Wt)
        for Xb, Yb in batches:
            var.accumulate(Xb, Yb, M)
            cov.accumulate(Xb, Yb, M)
            dec.accumulate(Xb, Yb, Wt, M)
        V_norms, V_intra = var.compute()[0], cov.compute()
        ref = {"nc1": covariance_ratio(V_intra, M, m_G),
               "nc1_trace_ratio": covariance_ratio(V_intra, M, m_G, metric="quotient"),
               "cdnv": variability_cdnv(V_norms, M, tile_size=64),
               "etf_distance_means": simplex_etf_error(M, m_G),
               "nc3_zhu": self_duality_error(Wt, M, m_G), "nc4": clf_ncc_agreement(dec)}
        conv = {"global_mean": "unweighted", "nc4_bias": False, "nc4_as": "agreement"}
    seconds = time.perf_counter() - t
    t = time.perf_counter()
    mine = ufm.nc_metrics(W, H.T, b, y, **conv)
    total = {"ufm_in_memory_seconds": time.perf_counter() - t,
             "values": {k: [float(v), mine[k]] for k, v in ref.items()},
             "deviation": {k: relative_deviation(float(v), mine[k]) for k, v in ref.items()}}
if step != "ref":
    seconds = total if step == "floor" else time.perf_counter() - t
# the high-water mark of this process's own memory map: ru_maxrss would also count the parent's
# resident set at fork (it is carried across exec), which here includes the data writer's buffers
status = Path("/proc/self/status")
lines = status.read_text().splitlines() if status.exists() else []
hwm = [int(ln.split()[1]) for ln in lines if ln.startswith("VmHWM:")]
peak = (hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "value": total}))
"""


def _run(folder: Path, step: str, threads: int, *extra) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    env.update(OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    proc = subprocess.run(
        [sys.executable, "-c", STEP_CODE, str(folder), step, *map(str, extra)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


REFERENCES = ("nc-toolbox", "neural-collapse")
STEPS = ("read", "cold", "floor", "measure", "projected", "trace", "feat", "in_mem")


def _measure_row(folder: Path, K: int, d: int, N: int, args) -> dict:
    """One row of the table: every requested step at size N (data already in ``folder``)."""
    steps, threads, out = args.steps, args.threads, {}
    if "read" in steps:
        out["read"] = _run(folder, "read", threads)
    if "cold" in steps:
        out["cold"] = _run(folder, "cold", threads)
    for step in ("measure", "projected", "trace", "feat"):
        if step in steps:
            out[step] = _run(folder, step, threads)
            if "floor" in steps and step != "feat":
                out[f"floor_{step}"] = _run(
                    folder, "floor", threads, N, d, K, args.floor_reps, step, 1
                )
    if "read" in steps:  # again after the other steps, the faster of the two kept
        out["read"] = min(out["read"], _run(folder, "read", threads), key=lambda r: r["seconds"])
    for name, tree in args.ref_path:
        out[f"ref_{name}"] = _run(folder, "ref", threads, name, tree, *args.ref_site)
    if "in_mem" in steps and N * d * 8 / 1e9 <= args.in_memory_max:
        out["in_mem"] = _run(folder, "in_mem", threads)
        for step in ("measure", "projected"):
            if step in out:
                want = out["in_mem"]["value"]
                assert abs(out[step]["value"] - want) <= 1e-9 * abs(want), (step, out)
    return out


def _format(N: int, nbytes: int, out: dict) -> list[str]:
    read = out.get("read", out.get("cold"))
    cells = [f"N={N}", f"{nbytes / 1e9:.3f} GB"]
    for key in ("read", "cold"):
        if key in out:
            r = out[key]
            cells.append(f"{key} {r['seconds']:.2f} s ({nbytes / 1e9 / r['seconds']:.2f} GB/s)")
    for key in ("measure", "projected", "trace", "feat", "in_mem"):
        if key in out:
            r = out[key]
            ratio = f", {r['seconds'] / read['seconds']:.1f}x read" if read else ""
            floor = out.get(f"floor_{key}")
            vs = f", floor {floor['seconds']:.1f} s" if floor else ""
            cells.append(f"{key} {r['seconds']:.2f} s{ratio}{vs}, peak {r['peak_mb']:.0f} MB")
    for key in sorted(k for k in out if k.startswith("ref_")):
        r = out[key]
        worst = max(r["value"]["deviation"].items(), key=lambda item: item[1])
        cells.append(
            f"{key[4:]} {r['seconds']:.2f} s (ufm in memory "
            f"{r['value']['ufm_in_memory_seconds']:.2f} s), peak {r['peak_mb']:.0f} MB, "
            f"largest relative deviation {worst[1]:.1e} ({worst[0]})"
        )
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="K=100, d=256, N=20000,80000")
    parser.add_argument("--K", type=int, default=1000)
    parser.add_argument("--d", type=int, default=2048)
    parser.add_argument("--N", default="16000,64000", help="comma-separated sample counts")
    parser.add_argument("--in-memory-max", type=float, default=2.0, help="GB of float64 H")
    parser.add_argument("--dir", default=None, help="folder for the data (default: a temp dir)")
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of every step")
    parser.add_argument(
        "--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}"
    )
    parser.add_argument("--floor-reps", type=int, default=5, help="chunks timed by the floor")
    parser.add_argument("--json", action="store_true", help="also print each row as JSON")
    parser.add_argument(
        "--ref-path",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="time a reference library from its source tree DIR: NAME nc-toolbox "
        "(felixsh/nc-toolbox) or neural-collapse (rhubarbwu/neural-collapse, needs torch)",
    )
    parser.add_argument(
        "--ref-site",
        action="append",
        default=[],
        metavar="DIR",
        help="appended to sys.path of the reference steps (e.g. torch installed with pip --target)",
    )
    args = parser.parse_args()
    args.ref_path = [tuple(spec.split("=", 1)) for spec in args.ref_path]
    bad = [spec for spec in args.ref_path if spec[0] not in REFERENCES or len(spec) != 2]
    if bad:
        parser.error(f"--ref-path takes NAME=DIR with NAME in {REFERENCES}, got {bad}")
    args.steps = args.steps.split(",")
    unknown = sorted(set(args.steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown steps {unknown}; choose among {','.join(STEPS)}")
    K, d, sizes = args.K, args.d, [int(n) for n in args.N.split(",")]
    if args.quick:
        K, d, sizes = 100, 256, [20000, 80000]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# K={K} d={d} float32 (N, d) .npy, OMP_NUM_THREADS={args.threads}, load {load}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        for N in sizes:
            info = _write(folder, K, d, N)
            out = _measure_row(folder, K, d, N, args)
            print("  ".join(_format(N, info["bytes"], out)), flush=True)
            if args.json:
                print(json.dumps({"K": K, "d": d, "N": N, **out}), flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# load at the end {load}")


if __name__ == "__main__":
    main()
