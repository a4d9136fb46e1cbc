"""Property tests of ufm.io: bit-identical round trips, atomic writes, and clear errors for
every kind of broken file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ufm import Configuration, Conventions, InvalidFile, InvalidParameter, Problem, load
from ufm.io import atomic_write


def make_config(seed=0, bias="regularized", sizes=(2, 3, 1), conventions=None):
    extra = {"lambda_b": 0.01} if bias == "regularized" else {}
    problem = Problem(
        loss="ce",
        K=len(sizes),
        d=4,
        class_sizes=sizes,
        lambda_W=0.1,
        lambda_H=0.2,
        bias=bias,
        **extra,
    )
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(problem.K) if problem.has_bias else None
    return Configuration(
        rng.standard_normal((problem.K, problem.d)),
        rng.standard_normal((problem.d, problem.N)),
        b,
        problem=problem,
        conventions=conventions,
        metadata={
            "produced_by": {"method": "test", "parameters": {"seed": seed}},
            "extra": {"x": 1},
        },
    )


@settings(max_examples=15)
@given(
    st.integers(0, 2**16),
    st.sampled_from(["regularized", "free", "none"]),
    st.lists(st.integers(1, 4), min_size=2, max_size=4),
    st.sampled_from([Conventions(), Conventions(global_mean="unweighted", nc4_as="agreement")]),
)
def test_round_trip_is_bit_identical(tmp_path_factory, seed, bias, sizes, conventions):
    """Property: load(save(c)) has bit-identical arrays and dtypes, an equal problem, equal
    conventions and the same provenance."""
    config = make_config(seed, bias, tuple(sizes), conventions)
    path = tmp_path_factory.mktemp("io") / "config.npz"
    config.save(path)
    back = load(path)
    for name in ("W", "H", "b", "labels"):
        assert getattr(back, name).dtype == getattr(config, name).dtype
        assert np.array_equal(getattr(back, name), getattr(config, name)), name
    assert back.problem == config.problem
    assert back.conventions == config.conventions
    assert back.metadata == config.metadata
    assert back.objective() == config.objective()


def test_failed_write_leaves_old_file_and_no_temp_file(tmp_path):
    """Property: an exception inside the write callback propagates, the previous file is intact
    byte for byte, and no temporary file is left in the folder."""
    path = tmp_path / "config.npz"
    make_config().save(path)
    before = path.read_bytes()

    def failing(fh):
        fh.write(b"partial garbage")
        raise RuntimeError("simulated crash during write")

    with pytest.raises(RuntimeError, match="simulated crash"):
        atomic_write(path, failing)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["config.npz"]


def write_archive(path, **entries):
    with open(path, "wb") as fh:
        np.savez(fh, **entries)


def entries_of(path):
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.npz"
    make_config().save(path)
    return path, entries_of(path)


def test_truncated_archive(saved, tmp_path):
    """Property: a truncated .npz is refused as unreadable, naming the file."""
    path, _ = saved
    data = path.read_bytes()
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidFile, match=r"truncated\.npz.*not a readable \.npz archive"):
        load(bad)


def test_missing_file(tmp_path):
    """Property: a missing file is an InvalidFile naming it."""
    with pytest.raises(InvalidFile, match="no such file"):
        load(tmp_path / "absent.npz")


@pytest.mark.parametrize(
    "change, pattern",
    [
        (lambda e: e.update(W=e["W"].astype(np.float32)), r"'W' must be float64, got float32"),
        (lambda e: e.update(labels=e["labels"].astype(float)), r"'labels' must be integers"),
        (lambda e: e["H"].__setitem__((0, 0), np.nan), r"H must be finite"),
        (lambda e: e.update(b=e["b"][:-1]), r"b must have shape"),
        (lambda e: e.update(H=e["H"][:, :-1]), r"N=5 but the problem has"),
        (lambda e: e.pop("b"), r"missing entries \['b'\]"),
        (lambda e: e.update(labels=e["labels"][::-1].copy()), r"labels differ from the problem"),
    ],
)
def test_broken_entries(saved, tmp_path, change, pattern):
    """Property: wrong dtype, NaN, wrong shapes, missing entries and inconsistent labels are refused
    with a message naming the entry."""
    _, entries = saved
    change(entries)
    bad = tmp_path / "bad.npz"
    write_archive(bad, **entries)
    with pytest.raises(InvalidFile, match=pattern):
        load(bad)


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda m: m.update(schema_version=3), r"schema_version 3 is not supported"),
        (lambda m: m.update(schema="other"), r"'schema' must be 'ufm.configuration'"),
        (lambda m: m["problem"].update(lambda_W=-1), r"lambda_W must be finite and >= 0"),
        (lambda m: m.update(conventions={"bogus": 1}), r"unknown conventions"),
    ],
)
def test_broken_metadata(saved, tmp_path, edit, pattern):
    """Property: a wrong schema or version, an invalid problem, unknown conventions are refused."""
    _, entries = saved
    meta = json.loads(str(entries["metadata"]))
    edit(meta)
    entries["metadata"] = np.array(json.dumps(meta))
    bad = tmp_path / "bad.npz"
    write_archive(bad, **entries)
    with pytest.raises(InvalidFile, match=pattern):
        load(bad)


def test_metadata_not_json(saved, tmp_path):
    """Property: metadata that is not JSON is refused."""
    _, entries = saved
    entries["metadata"] = np.array("{not json")
    bad = tmp_path / "bad.npz"
    write_archive(bad, **entries)
    with pytest.raises(InvalidFile, match="metadata is not valid JSON"):
        load(bad)


def test_unwritable_destinations(tmp_path):
    """Property: a missing folder, a wrong suffix and a folder that cannot be written are refused
    with InvalidParameter naming the path."""
    config = make_config()
    with pytest.raises(InvalidParameter, match="does not exist"):
        config.save(tmp_path / "missing" / "c.npz")
    with pytest.raises(InvalidParameter, match=r"end in \.npz"):
        config.save(tmp_path / "c.npy")
    target = tmp_path / "dir.npz"
    target.mkdir()
    with pytest.raises(InvalidParameter, match="cannot write"):
        config.save(target)
    assert os.listdir(target) == [] and sorted(os.listdir(tmp_path)) == ["dir.npz"]


def test_saved_files_get_ordinary_permissions(tmp_path):
    """Property: a new file gets 0666 less the umask (not a temporary file's 0600), and a replaced
    file keeps its mode."""
    import os
    import stat

    config = make_config(seed=0)
    path = config.save(tmp_path / "c.npz")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o640)
    config.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
