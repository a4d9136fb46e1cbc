"""Tests of the CLI's output shape and ordinary options: the shared JSON envelope of every
subcommand, one flag name per meaning (old spellings as hidden aliases), one-line usage errors,
outputs checked before computing, and the smaller items of issue 15 (9, 10, 13, 14)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ufm
from ufm.cli import main
from ufm.cli._common import ENVELOPE_KEYS, VERSIONED_PACKAGES
from ufm.tolerances import FLOAT, relative_deviation

ROOT = Path(__file__).resolve().parents[1]

PROBLEM = ["--loss", "ce", "--bias", "none", "--K", "3", "--d", "3", "--n", "2"]
PROBLEM += ["--lambda-w", "0.01", "--lambda-h", "0.01"]
MINORITY = "relax minority --KA 2 --KB 2 --energy-w 1 --energy-h 1"
LESDE = "lesde --K 2 --n 2 --d 2 --alpha 1 --beta 0.2 --noise 0.1 --time 1"


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def config_file(tmp_path):
    problem = ufm.Problem(loss="mse", K=3, d=3, n=2, lambda_W=0.1, lambda_H=0.1, bias="none")
    M = np.eye(3) - 1.0 / 3
    path = tmp_path / "etf.npz"
    ufm.Configuration(M.T, np.repeat(M, 2, axis=1), problem=problem).save(path)
    return path


#: (command as the envelope names it, argv without --json, contract keys that must stay on top).
COMMANDS = [
    ("etf", ["etf", "--K", "3"], {"K", "d", "M", "gram"}),
    ("minimizer", ["minimizer", *PROBLEM], {"problem", "objective", "W", "M", "threshold"}),
    ("relax angle", ["relax", "angle", "--K", "3"], {"t", "etf_cosine", "status", "G"}),
    (
        "relax lpm",
        "relax lpm --K 3 --class-sizes 2,2,2 --energy-w 1 --energy-h 1".split(),
        {"objective", "status", "rank", "W", "M"},
    ),
    ("relax nuclear", ["relax", "nuclear", *PROBLEM], {"objective", "upper", "exact", "W", "b"}),
    (
        "relax minority",
        f"{MINORITY} --ratios 1,2".split(),
        {"ratios", "minority_cosine", "threshold"},
    ),
    (
        "flow",
        ["flow", *PROBLEM, "--steps", "20", "--lr", "0.5"],
        {"objective", "metrics", "gap_to_closed_form", "steps", "problem"},
    ),
    (
        "lesde",
        f"{LESDE} --paths 3".split(),
        {"separable_probability", "ci_low", "ci_high", "criterion", "metrics", "parameters"},
    ),
    ("check", ["check", "etf.identities", "--fast"], {"seed", "fast", "ok", "checks"}),
    ("check", ["check", "--list"], {"claims"}),
]


@pytest.mark.parametrize(("command", "argv", "contract"), COMMANDS, ids=lambda c: str(c)[:30])
def test_every_subcommand_prints_the_envelope(command, argv, contract, capsys):
    """Property: every subcommand's --json has its contract keys on top plus ufm_version, command,
    parameters (the options as parsed, by flag name) and versions of the numeric packages."""
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert contract | set(ENVELOPE_KEYS) <= set(data)
    assert data["ufm_version"] == ufm.__version__
    assert data["command"] == command
    assert set(data["versions"]) == set(VERSIONED_PACKAGES)
    assert data["versions"]["numpy"] == np.__version__
    if command != "lesde":  # lesde's own "parameters" (a contract key) wins
        assert data["parameters"]["json"] is True
        given = [a[2:] for a in argv if a.startswith("--")]
        assert set(given) <= set(data["parameters"])


def test_envelope_parameters_are_the_parsed_options(capsys):
    """Property: ``parameters`` holds each option's parsed value (lists for comma lists, null when
    absent), keyed by its flag without dashes."""
    argv = ["relax", "nuclear", "--loss", "mse", "--bias", "free", "--K", "3", "--d", "3"]
    argv += ["--class-sizes", "2,1,1", "--lambda-w", "0.01", "--lambda-h", "0.02", "--json"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    params = json.loads(out)["parameters"]
    assert params["class-sizes"] == [2, 1, 1] and params["lambda-h"] == 0.02
    assert params["n"] is None and params["out"] is None and params["solver"] == "clarabel"
    assert "unreduced" not in params, "a hidden deprecated flag appears only when used"


def test_metrics_envelope_names_the_file(config_file, capsys):
    """Property: ``ufm metrics FILE --json`` carries the envelope with the file as a parameter."""
    code, out, _ = run(["metrics", str(config_file), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["command"] == "metrics" and data["parameters"]["file"] == str(config_file)


def test_versions_are_read_without_importing():
    """Property: building the envelope's versions imports none of scipy, cvxpy, numba, sympy."""
    code = (
        "import sys; from ufm.cli._common import package_versions; v = package_versions(); "
        "print(sorted(m for m in ('scipy', 'cvxpy', 'numba', 'sympy') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "old", "new"),
    [
        (["minimizer", *PROBLEM], "--output", "--out"),
        (["flow", *PROBLEM, "--steps", "5", "--lr", "0.5"], "--output", "--out"),
        (["relax", "nuclear", *PROBLEM], "--save", "--out"),
    ],
)
def test_output_flag_is_one_name_with_hidden_old_spellings(argv, old, new, tmp_path, capsys):
    """Property: every subcommand saves with -o/--out; the old spelling still writes the same file
    but is not shown in --help."""
    command = argv[:2] if argv[0] == "relax" else argv[:1]
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0 and "-o, --out FILE" in out and old not in out
    for flag in (old, new, "-o"):
        path = tmp_path / f"{flag.strip('-')}.npz"
        code, _, err = run([*argv, flag, str(path), "--json"], capsys)
        assert code == 0, err
        assert ufm.load(path).W.shape == (3, 3)


def test_unreduced_is_a_hidden_alias_of_symmetry_none(capsys):
    """Property: --unreduced still solves the unreduced program, and is not listed in --help."""
    code, out, _ = run(["relax", "nuclear", "--help"], capsys)
    assert code == 0 and "--unreduced" not in out and "--symmetry" in out
    code, out, err = run(["relax", "nuclear", *PROBLEM, "--unreduced", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["symmetry"] == "none" and data["parameters"]["unreduced"] is True


@pytest.mark.parametrize(
    "command", [["etf"], ["flow"], ["lesde"], ["relax", "minority"]], ids=" ".join
)
def test_plot_option_is_the_same_everywhere(command, capsys):
    """Property: --plot has one help text naming the accepted figure formats."""
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    assert "--plot FILE" in out and ".png, .pdf or .svg" in " ".join(out.split())


@pytest.mark.parametrize(
    "argv",
    [
        ["etf", "--K", "3", "--seed", "-1"],
        ["minimizer", *PROBLEM, "--seed", "-1", "-o", "x.npz"],
        ["flow", *PROBLEM, "--steps", "5", "--lr", "0.1", "--seed", "-1"],
        ["check", "--seed", "-1"],
        ["etf", "--K"],
        ["etf", "--K", "three"],
        ["etf"],
        ["flow", "--loss", "ce"],
        ["relax", "nuclear", "--loss", "hinge"],
        ["minimizer", "--no-such-option"],
        ["no-such-command"],
        ["relax", "no-such-relaxation"],
        ["relax", "lpm", "--K", "3", "--class-sizes", "2,x", "--energy-w", "1", "--energy-h", "1"],
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_usage_errors_are_one_line(argv, tmp_path, monkeypatch, capsys):
    """Property: a negative seed, a missing or malformed option, an unknown command or choice each
    give exactly one ``error:`` line on stderr and exit status 2 (not click's usage block, not a
    traceback)."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    one_error_line(err)
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["flow", *PROBLEM, "--steps", "5", "--lr", "0"], "lr must be finite and > 0, got 0.0"),
        (["flow", *PROBLEM, "--steps", "5", "--lr", "-1"], "lr must be finite and > 0, got -1.0"),
        (
            ["flow", *PROBLEM, "--steps", "5", "--lr", "0.1", "--init-scale", "1e200"],
            "lower init_scale",
        ),
    ],
)
def test_validation_messages_state_the_rule(argv, message, capsys):
    """Property: a '> 0' rule is reported as '> 0' (not '>= 0'); an overflowing start is blamed on
    --init-scale, not on lr."""
    code, _, err = run(argv, capsys)
    assert code == 2
    line = one_error_line(err)
    assert message in line and "lower lr" not in line


@pytest.mark.parametrize("ratios", ["1,2", "1,1.5,2,3,5,7,10"])
def test_xtol_is_refused_whatever_the_ratios(ratios, capsys):
    """Property: --xtol -1 is refused (exit 2) whether or not the sweep has a transition."""
    code, _, err = run([*MINORITY.split(), "--ratios", ratios, "--xtol", "-1"], capsys)
    assert code == 2
    assert "xtol must be finite and > 0" in one_error_line(err)


def test_directory_is_not_reported_as_missing(tmp_path, capsys):
    """Property: ``ufm metrics DIR`` says it is a directory, not 'no such file'."""
    code, _, err = run(["metrics", str(tmp_path)], capsys)
    assert code == 2 and "directory" in one_error_line(err)


@pytest.mark.parametrize(
    ("argv", "bad"),
    [
        (["flow", *PROBLEM, "--steps", "5", "--lr", "0.5", "-o", "{tmp}/nodir/x.npz"], "nodir"),
        (["flow", *PROBLEM, "--steps", "5", "--lr", "0.5", "--plot", "{tmp}/x.jpg"], "x.jpg"),
        (["flow", *PROBLEM, "--steps", "5", "--lr", "0.5", "-o", "{tmp}/x.txt"], "x.txt"),
        (["flow", *PROBLEM, "--steps", "5", "--lr", "0.5", "-o", "{tmp}"], "directory"),
        (
            ["flow", *PROBLEM, *"--steps 5 --lr 0.5 -o {tmp}/x.npz --plot {tmp}/x.jpg".split()],
            "x.jpg",
        ),
        (["minimizer", *PROBLEM, "-o", "{tmp}/nodir/x.npz"], "nodir"),
        (["relax", "nuclear", *PROBLEM, "-o", "{tmp}/nodir/x.npz"], "nodir"),
        (["etf", "--K", "3", "--d", "2", "--plot", "{tmp}/x.jpg"], "x.jpg"),
        (f"{MINORITY} --plot {{tmp}}/nodir/x.png".split(), "nodir"),
        (f"{LESDE} --plot {{tmp}}/x.gif".split(), "x.gif"),
    ],
    ids=lambda a: " ".join(a)[:60] if isinstance(a, list) else a,
)
def test_outputs_are_checked_before_computing(argv, bad, tmp_path, monkeypatch, capsys):
    """Property: an unwritable -o or --plot path (missing folder, a directory, a wrong suffix) is
    refused with one line and exit 2 before any computation, and nothing is written."""
    import ufm.dynamics
    import ufm.geometry
    import ufm.minimizers
    import ufm.relaxations

    def never(*args, **kwargs):
        raise AssertionError("computed before checking the outputs")

    for module, name in [
        (ufm.dynamics, "gradient_descent"), (ufm.dynamics, "simulate_lesde"),
        (ufm.minimizers, "global_minimizer"), (ufm.relaxations, "nuclear_relaxation"),
        (ufm.relaxations, "minority_collapse_sweep"), (ufm.geometry, "simplex_etf"),
    ]:  # fmt: skip
        monkeypatch.setattr(module, name, never)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert bad in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".svg"])
def test_figures_in_pdf_and_svg(suffix, tmp_path, capsys):
    """Property: --plot writes PNG, PDF or SVG according to the suffix."""
    path = tmp_path / f"etf{suffix}"
    code, _, err = run(["etf", "--K", "3", "--d", "2", "--plot", str(path)], capsys)
    assert code == 0, err
    magic = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml"}[suffix]
    assert path.read_bytes()[: len(magic)] == magic
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_check_table_fits_100_columns_with_summary_and_progress_per_claim(capsys):
    """Property: ``ufm check`` prints a table at most 100 columns wide, then one summary line; its
    progress is one stderr line per claim, however many points and routes it runs."""
    ids = ["etf.identities", "seli.max-margin"]
    code, out, err = run(["check", *ids, "--fast", "--points", "2"], capsys)
    assert code == 0, err
    lines = out.rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[-1].startswith("summary: 5 of 5 checks passed over 2 claims")
    progress = err.strip().splitlines()
    assert len(progress) == 2
    assert progress[0].strip().startswith("etf.identities: 6 runs ok")
    code, out, _ = run(["check", "--list"], capsys)
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 100


def test_minimizer_json_prints_the_saved_w(tmp_path, capsys):
    """Property: with --seed, the W and M that --json prints are those of the file saved with the
    same seed (the rotated realization)."""
    path = tmp_path / "cf.npz"
    code, out, err = run(["minimizer", *PROBLEM, "--seed", "7", "-o", str(path), "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    saved = ufm.load(path)
    np.testing.assert_array_equal(np.asarray(data["W"]), saved.W)
    M, _ = ufm.metrics.class_means(saved.H, saved.labels, 3)
    assert relative_deviation(np.asarray(data["M"]), M) <= FLOAT
    code, out, _ = run(["minimizer", *PROBLEM, "--json"], capsys)
    assert np.abs(np.asarray(json.loads(out)["W"]) - saved.W).max() > 1e-3, "seed 7 rotates"


def test_minimizer_threshold_critical_follows_the_loss(capsys):
    """Property: the JSON's critical threshold is the loss's target gap: 1 for ce, 1 - alpha for
    ce-ls (and zero_solution agrees with threshold >= threshold_critical on both sides)."""
    base = ["minimizer", "--bias", "free", "--K", "3", "--d", "3", "--n", "2", "--json"]
    for loss, extra, critical in (("ce", [], 1.0), ("ce-ls", ["--smoothing", "0.4"], 0.6)):
        for lam in ("0.01", "0.2"):
            argv = [*base, "--loss", loss, *extra, "--lambda-w", lam, "--lambda-h", lam]
            code, out, err = run(argv, capsys)
            assert code == 0, err
            data = json.loads(out)
            assert data["conventions"]["threshold_critical"] == pytest.approx(critical, abs=1e-15)
            assert data["zero_solution"] == (data["threshold"] >= critical)


def test_class_sizes_give_the_number_of_classes(capsys):
    """Property: with --class-sizes, --K defaults to their count; a mismatch or neither is one error
    line."""
    base = ["minimizer", "--loss", "mse", "--bias", "free", "--d", "4"]
    base += ["--lambda-w", "0.01", "--lambda-h", "0.01", "--json"]
    code, out, err = run([*base, "--class-sizes", "3,1,2"], capsys)
    assert code == 0, err
    assert json.loads(out)["problem"]["K"] == 3
    code, _, err = run([*base, "--class-sizes", "3,1,2", "--K", "4"], capsys)
    assert code == 2 and "K=4" in one_error_line(err)
    code, _, err = run(base, capsys)
    assert code == 2 and "--K is required" in one_error_line(err)


def test_etf_numbers_classes_from_zero_in_table_and_figure(capsys):
    """Property: ``ufm etf``'s table and its figure both number the classes 0..K-1."""
    from ufm import plot
    from ufm.geometry import simplex_etf

    code, out, _ = run(["etf", "--K", "3"], capsys)
    assert code == 0 and out.split()[:3] == ["m_0", "m_1", "m_2"]
    M = simplex_etf(3, 2)
    fig = plot.plot_frame(M, W=M.T)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["$m_{0}$", "$m_{1}$", "$m_{2}$", "$w_{0}$", "$w_{1}$", "$w_{2}$"]
    plot._pyplot().close(fig)


def test_lpm_table_prints_w_and_m(capsys):
    """Property: ``ufm relax lpm`` prints the W (K x rank) and M (rank x K) its --help promises."""
    argv = ["relax", "lpm", "--K", "3", "--class-sizes", "2,2,2", "--energy-w", "1"]
    code, out, err = run([*argv, "--energy-h", "1"], capsys)
    assert code == 0, err
    assert "W (3 x 2):" in out and "M (2 x 3):" in out
    code, out, _ = run(["relax", "lpm", "--help"], capsys)
    assert "W (K x rank)" in " ".join(out.split())


def test_nuclear_refusal_names_a_cli_flag_that_exists(capsys):
    """Property: below the rank bound the refusal names --allow-lower-bound, and that flag gives
    the convex optimum as a lower bound (exact: false) instead."""
    argv = ["relax", "nuclear", "--loss", "mse", "--bias", "none", "--K", "3", "--d", "2"]
    argv += ["--n", "2", "--lambda-w", "0.01", "--lambda-h", "0.01"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "--allow-lower-bound" in one_error_line(err)
    code, out, err = run([*argv, "--allow-lower-bound", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["exact"] is False and data["objective"] <= data["upper"]


def test_bench_relaxations_help_does_not_run_the_benchmark():
    """Property: ``bench_relaxations.py --help`` prints its usage and exits without timing."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_relaxations.py"), "--help"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:") and "nuclear" in proc.stdout
    assert "-----" not in proc.stdout, "a benchmark table was printed"
