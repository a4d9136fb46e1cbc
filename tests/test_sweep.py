"""Tests of ``ufm.sweep`` and ``ufm sweep``: spec validation, the design and its chunking, a real
2-worker LocalCluster and the local process pool against point-by-point serial results, interrupt
and resume to the same bytes, Parquet export, figures, and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ufm.cli import main
from ufm.errors import InvalidFile, InvalidParameter, UFMError
from ufm.sweep import (
    TASKS,
    TaskKind,
    builtin_spec,
    export_parquet,
    load_spec,
    open_result,
    parse_spec,
    plot_sweep,
    run_sweep,
)
from ufm.sweep._engine import PINNED_THREADS

#: A small stochastic spec: 2 x 3 parameter points x 5 seeds in tasks of 4 points (chunks (1, 1, 4);
#: the last chunk along seed is partial), about 0.03 s of descent in all.
SMALL = {
    "task": "descent",
    "name": "small",
    "seeds": 5,
    "seed": 7,
    "batch": 4,
    "fixed": {"loss": "ce", "bias": "free", "K": 2, "d": 2, "n": 3, "steps": 200, "lr": 0.2},
    "params": {"init_scale": [1.0, 0.1], "kappa": {"range": [0.2, 0.8], "num": 3}},
    "outputs": ["objective", "gradient_norm"],
}


@pytest.fixture(scope="module")
def scheduler():
    """One real 2-worker LocalCluster (one thread each, threads pinned) for the whole module."""
    import logging
    import os

    distributed = pytest.importorskip("distributed")
    saved = {k: os.environ.get(k) for k in PINNED_THREADS}
    os.environ.update(PINNED_THREADS)
    try:
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.ERROR,
        )  # fmt: skip
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    with cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def small():
    return parse_spec(SMALL)


def _serial_reference(spec) -> dict:
    """Every point run directly through its task kind, in this process."""
    kind = TASKS[spec.task]
    out = {name: np.empty(spec.shape, dtype=kind.outputs[name]) for name in spec.outputs}
    everything = tuple(slice(0, s) for s in spec.shape)
    for position, point, seed in spec.points(everything):
        values = kind.run(point, seed, spec.outputs)
        for name in spec.outputs:
            out[name][position] = values[name]
    return out


def _chunk_bytes(path: Path) -> dict:
    """Every file of a store except the metadata holding the creation time."""
    return {
        str(f.relative_to(path)): f.read_bytes()
        for f in sorted(path.rglob("*"))
        if f.is_file() and f.name not in (".zattrs", ".zmetadata")
    }


def test_cluster_matches_serial_point_by_point(scheduler, small, tmp_path):
    """Property: a sweep on a 2-worker LocalCluster stores, at every grid position, exactly what a
    serial call of the task kind gives there (seeds keyed by position; same code, one BLAS thread,
    numba without fastmath: bit-identical, so compared exactly)."""
    report = run_sweep(small, tmp_path / "r.zarr", scheduler=scheduler)
    assert (report.tasks, report.skipped, report.run) == (small.n_tasks, 0, small.n_tasks)
    ds = open_result(tmp_path / "r.zarr")
    reference = _serial_reference(small)
    for name in small.outputs:
        assert ds[name].dims == small.dims
        np.testing.assert_array_equal(ds[name].values, reference[name])
    assert ds["task_done"].values.all()
    assert json.loads(ds.attrs["spec"]) == small.canonical
    assert ds.attrs["spec_sha256"] == small.sha256
    np.testing.assert_array_equal(ds["kappa"].values, np.linspace(0.2, 0.8, 3))


def test_process_pool_gives_the_same_bytes(small, tmp_path):
    """Property: the dependency-light process-pool path writes byte-identical chunks to the serial
    path."""
    run_sweep(small, tmp_path / "p.zarr", backend="processes", workers=2)
    run_sweep(small, tmp_path / "s.zarr", backend="serial")
    assert _chunk_bytes(tmp_path / "p.zarr") == _chunk_bytes(tmp_path / "s.zarr")


def test_interrupt_then_resume_gives_the_same_bytes(scheduler, small, tmp_path):
    """Property: a sweep interrupted (KeyboardInterrupt, as Ctrl-C) after 3 written tasks keeps
    exactly those 3 chunks marked done; rerunning the same spec skips them and ends with the same
    bytes as an uninterrupted run; a rerun of a finished store runs nothing."""

    def stop_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    out = tmp_path / "i.zarr"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(small, out, scheduler=scheduler, progress=stop_after_three)
    with pytest.raises(InvalidFile, match="incomplete"):
        open_result(out)
    partial = open_result(out, allow_incomplete=True)
    assert int(partial["task_done"].sum()) == 3
    report = run_sweep(small, out, backend="serial")
    assert (report.skipped, report.run) == (3, small.n_tasks - 3)
    run_sweep(small, tmp_path / "u.zarr", backend="serial")
    assert _chunk_bytes(out) == _chunk_bytes(tmp_path / "u.zarr")
    again = run_sweep(small, out, backend="serial")
    assert (again.skipped, again.run) == (small.n_tasks, 0)


#: A spec of 24 tasks of about 0.1 s each (24 seeds x 2 points x 12000 steps, batch 2): long enough
#: to interrupt between tasks, short enough to rerun serially as the reference.
INTERRUPTIBLE = {
    **SMALL, "seeds": 24, "batch": 2, "fixed": {**SMALL["fixed"], "steps": 12000, "kappa": 0.5},
    "params": {"init_scale": [1.0, 0.1]},
}  # fmt: skip


@pytest.mark.parametrize("backend", ["distributed", "processes"])
def test_ctrl_c_stops_cleanly_and_resumes_to_the_same_bytes(backend, tmp_path):
    """Property: SIGINT sent to the whole process group of ``ufm sweep`` (what Ctrl-C does in a
    terminal) while 2 local workers run stops it with status 130, one stderr line and no worker
    traceback (workers ignore SIGINT); the store keeps the finished tasks, and resuming it gives
    the same bytes as an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    if backend == "distributed":
        pytest.importorskip("distributed")
    spec_file = tmp_path / "s.json"
    spec_file.write_text(json.dumps(INTERRUPTIBLE))
    out = tmp_path / "i.zarr"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ufm", "sweep", str(spec_file), "--out", str(out), "--workers", "2",
         "--backend", backend],
        cwd=Path(__file__).parents[1], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip

    def finished_tasks() -> int:
        # zarr writes no chunk equal to the fill value (False): one file per finished task
        folder = out / "task_done"
        return sum(1 for f in folder.iterdir() if f.name.isdigit()) if folder.is_dir() else 0

    deadline = time.monotonic() + 240
    while finished_tasks() < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().startswith("interrupted:"), err
    spec = parse_spec(INTERRUPTIBLE)
    kept = int(open_result(out, allow_incomplete=True)["task_done"].sum())
    assert 2 <= kept < spec.n_tasks
    report = run_sweep(spec, out, backend="serial")
    assert (report.skipped, report.run) == (kept, spec.n_tasks - kept)
    run_sweep(spec, tmp_path / "u.zarr", backend="serial")
    assert _chunk_bytes(out) == _chunk_bytes(tmp_path / "u.zarr")


def test_store_of_another_spec_is_refused(small, tmp_path):
    """Property: a store answers only to its own spec (spec_sha256); a plain folder is refused."""
    out = tmp_path / "r.zarr"
    run_sweep(small, out, backend="serial")
    other = parse_spec({**SMALL, "seed": 8})
    with pytest.raises(InvalidParameter, match="another spec"):
        run_sweep(other, out, backend="serial")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InvalidParameter, match="not a Zarr store"):
        run_sweep(small, tmp_path / "plain", backend="serial")


def test_non_finite_output_is_refused(monkeypatch, tmp_path):
    """Property: a task kind returning NaN stops the sweep with a UFMError naming the output and the
    point; nothing is marked done."""
    fake = TaskKind(
        name="nan", description="returns NaN", outputs={"value": "f8"}, required=("x",),
        optional=(), stochastic=False, seconds_per_point=1e-3,
        run=lambda point, seed, outputs: {"value": math.nan}, check=lambda point, outputs: None,
    )  # fmt: skip
    monkeypatch.setitem(TASKS, "nan", fake)
    spec = parse_spec({"task": "nan", "params": {"x": [1, 2]}})
    with pytest.raises(UFMError, match="value=nan"):
        run_sweep(spec, tmp_path / "n.zarr", backend="serial")
    assert not open_result(tmp_path / "n.zarr", allow_incomplete=True)["task_done"].values.any()


@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=2),
    seeds=st.integers(1, 6),
    batch=st.integers(1, 12),
)
def test_tasks_partition_the_grid(sizes, seeds, batch):
    """Property: the task regions cover every grid position exactly once, each holds at most
    ``batch`` points, and a point's seed depends on its position only (not on its task)."""
    params = {
        name: {"values": [0.1 * (i + 1) for i in range(size)]}
        for name, size in zip(("lambda_W", "lambda_H"), sizes, strict=False)
    }
    fixed = {"loss": "mse", "bias": "none", "K": 2, "d": 2, "n": 2, "steps": 1, "lr": 0.1}
    for name in ("lambda_W", "lambda_H"):
        if name not in params:
            fixed[name] = 0.1
    spec = parse_spec({"task": "descent", "seeds": seeds, "batch": batch, "fixed": fixed,
                       "params": params, "outputs": ["objective"]})  # fmt: skip
    assert math.prod(spec.chunks) <= batch
    seen = {}
    for task in range(spec.n_tasks):
        for position, _, seed in spec.points(spec.region(task)):
            assert position not in seen
            seen[position] = seed
    assert len(seen) == math.prod(spec.shape)
    for position, seed in seen.items():
        single = tuple(slice(i, i + 1) for i in position)
        assert next(spec.points(single))[2] == seed


def test_random_design_is_reproducible():
    """Property: a random design draws its points from the root seed: same seed, same points, in
    range (log-uniform inside a log range); another seed, other points."""
    raw = {
        "task": "descent", "design": "random", "samples": 6, "seeds": 2,
        "fixed": {"loss": "ce", "bias": "free", "K": 2, "d": 2, "n": 2, "steps": 1, "lr": 0.1,
                  "lambda_H": 0.1},
        "params": {"lambda_W": {"range": [1e-3, 1e-1], "scale": "log"}}, "outputs": ["objective"],
    }  # fmt: skip
    a, b = parse_spec(raw), parse_spec(raw)
    c = parse_spec({**raw, "seed": 1})
    assert a.dims == ("point", "seed") and a.shape == (6, 2)
    np.testing.assert_array_equal(a.params["lambda_W"], b.params["lambda_W"])
    assert not np.array_equal(a.params["lambda_W"], c.params["lambda_W"])
    assert ((1e-3 <= a.params["lambda_W"]) & (a.params["lambda_W"] <= 1e-1)).all()


_BASE = {"task": "minimizer", "fixed": {"loss": "ce", "bias": "free", "n": 4, "K": 3},
         "params": {"kappa": [0.5, 2.0]}}  # fmt: skip


@pytest.mark.parametrize(
    "change, match",
    [
        ({"colour": 1}, "unknown keys"),
        ({"task": "nope"}, "task must be one of"),
        ({"design": "sobol"}, "design must be"),
        ({"seeds": 3}, "seeds must be 1 for the deterministic"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"batch": 0}, "batch must be an integer >= 1"),
        ({"outputs": ["margin"]}, "outputs must be"),
        ({"params": {"kappa": {"range": [2.0, 1.0], "num": 3}}}, r"params.kappa.range"),
        ({"params": {"kappa": {"range": [0.0, 1.0], "num": 3, "scale": "log"}}}, "log scale"),
        ({"params": {"kappa": {"range": [0.1, 1.0], "num": 1}}}, r"params.kappa.num"),
        ({"params": {"kappa": [0.5, 0.5]}}, "distinct"),
        ({"params": {"kappa": [0.5, "a"]}}, "one type"),
        ({"params": {"K": [3, 4]}}, "both fixed and swept"),
        ({"params": {"kappa": [0.5], "mu": [1.0]}}, "takes no parameter"),
        ({"fixed": {"loss": "ce", "n": 4, "K": 3}}, r"requires parameters \['bias'\]"),
        ({"params": {"kappa": [-0.5]}}, "kappa must be finite and > 0"),
        ({"fixed": {"loss": "ce", "bias": "free", "n": 4, "K": 1}}, "is refused"),
        ({"design": "random"}, "samples must be an integer >= 1"),
    ],
)
def test_spec_errors_name_the_rule(change, match):
    """Property: every malformed spec raises InvalidParameter naming the key and the rule."""
    with pytest.raises(InvalidParameter, match=match):
        parse_spec({**_BASE, **change})


def test_spec_files(tmp_path):
    """Property: TOML and JSON files of one spec give the same hash; bad files raise InvalidFile."""
    toml = tmp_path / "s.toml"
    toml.write_text(
        'task = "minimizer"\n[fixed]\nloss = "ce"\nbias = "free"\nn = 4\nK = 3\n'
        "[params]\nkappa = [0.5, 2.0]\n"
    )
    js = tmp_path / "s.json"
    js.write_text(json.dumps(_BASE))
    assert load_spec(toml).sha256 == load_spec(js).sha256
    (tmp_path / "bad.toml").write_text("task = ")
    for bad, match in (("bad.toml", "not valid TOML"), ("s.yaml", "must end in"),
                       ("missing.json", "cannot read")):  # fmt: skip
        with pytest.raises(InvalidFile, match=match):
            load_spec(tmp_path / bad)


def test_threshold_study_contract_and_prediction(tmp_path):
    """Property: the quick ``threshold`` study has data variables objective and zero_solution,
    coordinates kappa and K, and its zero-solution verdict is kappa >= 1 at every point (Zhu et al.
    2021, Thm 3.1; Zhou et al. 2022); Parquet export has one row per point with the same values;
    the figure is written."""
    out = tmp_path / "t.zarr"
    # serial: the sympy derivations are then done once, in this process (the cluster path is
    # checked point by point above)
    run_sweep(builtin_spec("threshold", quick=True), out, backend="serial")
    ds = open_result(out)
    assert {"objective", "zero_solution"} <= set(ds.data_vars)
    assert {"kappa", "K"} <= set(ds.coords)
    expected = (ds["kappa"] >= 1).broadcast_like(ds["zero_solution"])
    assert (ds["zero_solution"] == expected).all()
    frame = __import__("pandas").read_parquet(export_parquet(out, tmp_path / "t.parquet"))
    assert len(frame) == ds["objective"].size
    np.testing.assert_array_equal(frame["objective"].to_numpy(), ds["objective"].values.reshape(-1))
    from ufm.plot import save

    assert save(plot_sweep(ds), tmp_path / "t.png").stat().st_size > 0


def _cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_cli_run_resume_plot(tmp_path, capsys):
    """Property: ``ufm sweep SPEC --out`` runs on its own 2-worker LocalCluster and prints one JSON
    object; rerunning resumes (nothing left to run); ``--format parquet`` writes the table beside
    the store; ``ufm sweep plot`` writes the figure; the benign worst case carries its seed."""
    spec_file = tmp_path / "small.json"
    spec_file.write_text(json.dumps(SMALL))
    out = tmp_path / "small.zarr"
    code, text, err = _cli(["sweep", str(spec_file), "--out", str(out), "--workers", "2",
                            "--json"], capsys)  # fmt: skip
    assert code == 0, err
    result = json.loads(text)
    assert result["backend"] == "distributed" and result["run"] == result["tasks"]
    assert result["worst"]["variable"] == "objective" and isinstance(result["worst"]["seed"], int)
    code, text, _ = _cli(["sweep", str(spec_file), "--out", str(out), "--format", "parquet",
                          "--backend", "serial", "--json"], capsys)  # fmt: skip
    assert code == 0 and json.loads(text)["run"] == 0
    assert (tmp_path / "small.parquet").stat().st_size > 0
    code, text, _ = _cli(["sweep", "plot", str(out), "-o", str(tmp_path / "f.png")], capsys)
    assert code == 0 and (tmp_path / "f.png").stat().st_size > 0


@pytest.mark.parametrize(
    "argv, match",
    [
        (["sweep", "--out", "X.zarr"], "exactly one of SPEC and --builtin"),
        (["sweep", "S.toml", "--out", "X.zarr"], "cannot read sweep spec"),
        (["sweep", "--builtin", "benign", "--out", "{tmp}/no/such/X.zarr"], "does not exist"),
        (["sweep", "plot", "{tmp}"], "is not a Zarr store"),
    ],
)
def test_cli_errors_are_one_line(argv, match, tmp_path, capsys):
    """Property: bad input gives exit status 2 and one ``error:`` line naming the problem."""
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, _, err = _cli(argv, capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and match in err


def test_lesde_task_is_the_exact_law_of_the_i_model():
    """Property: a ``lesde`` point is P(separable) of paths drawn from the exact Gaussian law of the
    authors' linear I model (``lesde_moments`` + ``separability_exact`` at the point's seed), and
    at a long horizon it is 0 below the boundary alpha/beta = 1 and 1 above it (claim
    ``lesde.separability-transition``); the built-in study sweeps (alpha/beta, time) with 1 on
    the grid, in the I model."""
    from ufm.dynamics import lesde_moments, separability_exact

    spec = parse_spec({
        "task": "lesde",
        "fixed": {"K": 3, "n": 10, "d": 2, "beta": 1.0, "noise": 0.1, "time": 128.0, "paths": 20},
        "params": {"alpha_over_beta": [0.5, 2.0]},
    })  # fmt: skip
    run = {position[0]: TASKS["lesde"].run(point, seed, spec.outputs)
           for position, point, seed in spec.points((slice(0, 2), slice(0, 1)))}  # fmt: skip
    assert run[0]["probability"] == 0.0 and run[1]["probability"] == 1.0
    _, point, seed = next(spec.points((slice(1, 2), slice(0, 1))))
    law = lesde_moments(3, 10, 2, 2.0, 1.0, 0.1, 128.0, model="I", init_scale=0.1)
    direct = separability_exact(law, paths=20, seed=seed)
    assert (run[1]["ci_low"], run[1]["ci_high"]) == (direct.ci_low, direct.ci_high)
    quick = builtin_spec("lesde", quick=True)
    assert quick.fixed["model"] == "I" and 1.0 in quick.params["alpha_over_beta"].round(12)
    assert quick.dims == ("time", "alpha_over_beta", "seed")


def test_claim_task_is_the_claims_route_at_the_sweeps_seed():
    """Property: a ``claim`` point stores what ``Claim.run`` gives for that route at the point, with
    the domain's seed set to the sweep's seed of the grid position and the derived parameters
    added; a point outside the claim's hypotheses, an unknown route or a missing parameter is
    refused before anything runs."""
    from ufm.claims import get_claim

    raw = {"task": "claim", "seeds": 2, "params": {"K": [2, 3]},
           "fixed": {"claim": "etf.identities", "route": "symbolic", "extra_d": 1}}  # fmt: skip
    spec = parse_spec(raw)
    assert spec.dims == ("K", "seed")
    claim = get_claim("etf.identities")
    for position, point, seed in spec.points((slice(0, 2), slice(0, 2))):
        stored = TASKS["claim"].run(point, seed, spec.outputs)
        full = {"K": point["K"], "extra_d": 1, "seed": seed}
        full.update(claim.domain.derive(full))
        direct = claim.run("symbolic", full)
        assert stored == {"deviation": direct.deviation, "tolerance": direct.tolerance,
                          "ok": direct.ok}, position  # fmt: skip
        assert stored["ok"]
    base = {"claim": "etf.identities", "route": "symbolic"}
    for fixed, K, match in (
        ({**base, "extra_d": 1}, [2, 99], "outside its hypotheses"),
        ({**base, "extra_d": 1, "route": "x"}, [2], "has routes"),
        (base, [2], r"takes the parameters \['K', 'extra_d'\]"),
    ):
        with pytest.raises(InvalidParameter, match=match):
            parse_spec({**raw, "fixed": fixed, "params": {"K": K}})


def test_relax_and_flow_tasks_match_the_library_point_by_point():
    """Property: a ``relax`` point stores the nuclear-norm certificate's values of its problem and
    agrees with the closed-form optimum to the solver's value accuracy (CONVEX_CLARABEL), on both
    sides of kappa = 1; a ``flow`` point stores the final objective of ``gradient_flow`` from the
    point's seed, exactly."""
    from ufm import Problem
    from ufm.dynamics import gradient_flow
    from ufm.relaxations import nuclear_relaxation
    from ufm.tolerances import CONVEX_CLARABEL

    fixed = {"loss": "ce", "bias": "free", "K": 3, "n": 2}
    relax = parse_spec({"task": "relax", "fixed": fixed, "params": {"kappa": [0.5, 2.0]}})
    for _, point, seed in relax.points((slice(0, 2),)):
        stored = TASKS["relax"].run(point, seed, relax.outputs)
        lam = point["kappa"] / (3 * math.sqrt(2))
        cert = nuclear_relaxation(Problem(loss="ce", bias="free", K=3, d=3, n=2, lambda_W=lam,
                                          lambda_H=lam))  # fmt: skip
        assert (stored["objective"], stored["lower"]) == (cert.objective, cert.lower)
        assert stored["exact"] and abs(stored["gap_closed_form"]) <= CONVEX_CLARABEL
    flow = parse_spec({"task": "flow", "seeds": 2, "fixed": {**fixed, "kappa": 0.5, "time": 5.0},
                       "outputs": ["objective"]})  # fmt: skip
    for _, point, seed in flow.points((slice(0, 2),)):
        lam = 0.5 / (3 * math.sqrt(2))
        p = Problem(loss="ce", bias="free", K=3, d=3, n=2, lambda_W=lam, lambda_H=lam)
        direct = gradient_flow(p, time_horizon=5.0, seed=seed, records=2)
        assert TASKS["flow"].run(point, seed, flow.outputs) == {
            "objective": float(direct.objective[-1])
        }


def test_measure_task_reads_one_file_per_point(tmp_path):
    """Property: a ``measure`` sweep over a list of configuration files stores, per file, the
    metrics ``ufm.measure`` gives for its H, labels and W; a file lacking W is refused up front
    when classifier metrics are kept. A collapsed minimizer has NC1 ~ 0 and NC4 = 0, a noisy one
    does not."""
    from ufm import Problem
    from ufm.measure import measure
    from ufm.minimizers import global_minimizer

    p = Problem(loss="ce", K=3, d=3, n=4, lambda_W=1e-2, lambda_H=1e-2, bias="free")
    cf = global_minimizer(p)
    H = cf.H + 0.3 * np.random.default_rng(0).standard_normal(cf.H.shape)
    files = [str(tmp_path / "collapsed.npz"), str(tmp_path / "noisy.npz")]
    np.savez(files[0], H=cf.H, labels=cf.labels, W=cf.W)
    np.savez(files[1], H=H, labels=cf.labels, W=cf.W)
    spec = parse_spec({"task": "measure", "params": {"file": files},
                       "outputs": ["nc1_trace_ratio", "nc4"]})  # fmt: skip
    out = tmp_path / "m.zarr"
    run_sweep(spec, out, backend="serial")
    ds = open_result(out)
    for i, f in enumerate(files):
        direct = measure(f"{f}:H", f"{f}:labels", W=f"{f}:W", layout="d,N").metrics
        assert ds["nc1_trace_ratio"].values[i] == direct["nc1_trace_ratio"]
        assert ds["nc4"].values[i] == direct["nc4"]
    assert ds["nc1_trace_ratio"].values[0] < 1e-20 < ds["nc1_trace_ratio"].values[1]
    np.savez(tmp_path / "bare.npz", H=H, labels=cf.labels)
    with pytest.raises(InvalidParameter, match=r"no entries \['W'\]"):
        parse_spec({"task": "measure", "params": {"file": [str(tmp_path / "bare.npz")]}})
