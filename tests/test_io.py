"""Property tests of ufm.io: bit-identical round trips, atomic writes, and clear errors for
every kind of broken file."""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_models import problems

from ufm import Configuration, Conventions, InvalidFile, InvalidParameter, Problem, load
from ufm.io import atomic_write
from ufm.models import get_model


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


def test_load_tells_a_directory_or_fifo_from_a_missing_file(tmp_path):
    """Property: ``load`` of a directory or a FIFO says what the path is, not 'no such file'."""
    with pytest.raises(InvalidFile, match="is a directory"):
        load(tmp_path)
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(InvalidFile, match="not a regular file"):
        load(fifo)
    with pytest.raises(InvalidFile, match="no such file"):
        load(tmp_path / "absent.npz")


def test_next_save_removes_temporaries_of_killed_saves(tmp_path):
    """Property: temporaries of the same target left by dead writers (and by saves of older
    versions) are removed by the next save; a live writer's and other targets' are kept."""
    config = make_config(seed=0)
    dead = tmp_path / ".c.npz.999999999-abcd.tmp"  # above any pid_max: no such process
    legacy = tmp_path / ".c.npz.k3j_x9q1.tmp"
    live = tmp_path / f".c.npz.{os.getppid()}-abcd.tmp"
    other = tmp_path / ".d.npz.999999999-abcd.tmp"
    for path in (dead, legacy, live, other):
        path.write_bytes(b"partial")
    config.save(tmp_path / "c.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["c.npz", live.name, other.name])


# Schema version 2: named blocks of every model ---------------------------------------------------


@settings(max_examples=12)
@given(problems(), st.integers(0, 2**16))
def test_v2_round_trip_every_model(tmp_path_factory, problem, seed):
    """Property: for every registered model, load(save(c)) has the model's blocks under their names
    in order, bit-identical, the same problem, model, objective and metrics; the file holds exactly
    the blocks, labels and metadata, and the metadata lists the blocks with their shapes."""
    record = get_model(problem.model)
    config = Configuration(blocks=record.initialize(problem, seed), problem=problem)
    path = tmp_path_factory.mktemp("io") / "config.npz"
    config.save(path)
    back = load(path)
    assert list(back.blocks) == list(record.blocks(problem)) == list(config.blocks)
    for name, value in config.blocks.items():
        assert back.blocks[name].dtype == np.float64
        assert np.array_equal(back.blocks[name], value), name
    assert back.problem == problem and back.model == problem.model
    assert back.objective() == config.objective()
    assert back.metrics() == config.metrics()
    entries = entries_of(path)
    assert set(entries) == {*record.blocks(problem), "labels", "metadata"}
    meta = json.loads(str(entries["metadata"]))
    assert meta["schema_version"] == 2 and meta["model"] == problem.model
    assert meta["blocks"] == [[n, list(s)] for n, s in record.blocks(problem).items()]


def test_v2_deep_linear_reads_classifier_and_features():
    """Property: a deep-linear configuration's W, H are the classifier W_L and the penultimate
    features W_{L-1}...W_1 H, on which the metrics are measured."""
    p = Problem(
        loss="mse", K=3, d=4, n=2, lambda_H=0.1, bias="free", model="deep-linear",
        model_params={"depth": 2, "lambdas": 0.1, "widths": [5]},
    )  # fmt: skip
    blocks = get_model("deep-linear").initialize(p, 1)
    config = Configuration(blocks=blocks, problem=p)
    assert np.array_equal(config.W, blocks["W2"])
    assert np.array_equal(config.H, blocks["W1"] @ blocks["H"])
    assert config.d == 5 and config.metrics()["nc1"] is not None


def test_constructor_refusals():
    """Property: blocks together with (W, H, b), blocks that are not the model's, and a non-ufm
    model's point off its constraint set are refused naming the rule."""
    p = Problem(loss="ce", K=2, d=2, n=1, model="sphere", model_params={"tau": 1.0})
    with pytest.raises(InvalidParameter, match="not both"):
        Configuration(np.eye(2), blocks={"W": np.eye(2)}, problem=p)
    with pytest.raises(InvalidParameter, match=r"model 'sphere' has the blocks \['W', 'H'\]"):
        Configuration(blocks={"W": np.eye(2)}, problem=p)
    with pytest.raises(InvalidParameter, match="rows of W must have unit norm"):
        Configuration(2 * np.eye(2), np.eye(2), problem=p)
    assert Configuration(np.eye(2), np.eye(2), problem=p).model == "sphere"


def v1_entries(config):
    """The layout ufm 0.1 (commit ede47c9) wrote for ``config``: W, H, b, labels, metadata v1."""
    meta = {
        "schema": "ufm.configuration",
        "schema_version": 1,
        "ufm_version": "0.1.0",
        "problem": None if config.problem is None else config.problem.to_dict(),
        "conventions": config.conventions.to_dict(),
        "produced_by": {"method": "test", "parameters": {}},
        "created": "2026-11-30T12:00:00+00:00",
        "extra": {},
    }
    return dict(
        W=config.W, H=config.H, b=config.b, labels=config.labels,
        metadata=np.array(json.dumps(meta, sort_keys=True)),
    )  # fmt: skip


@pytest.mark.parametrize("bias", ["regularized", "none", None])
def test_version_1_files_load(tmp_path, bias):
    """Property: a version-1 file (W, H, b always present; no model, no blocks; problem or null)
    loads as a 'ufm' configuration with identical arrays, problem and objective."""
    if bias is None:
        config = Configuration(np.eye(3)[:2], np.ones((3, 4)), labels=[0, 1, 0, 1])
    else:
        config = make_config(bias=bias)
    path = tmp_path / "v1.npz"
    write_archive(path, **v1_entries(config))
    back = load(path)
    assert back.model == "ufm" and back.problem == config.problem
    for name in ("W", "H", "b", "labels"):
        assert np.array_equal(getattr(back, name), getattr(config, name))
    assert list(back.blocks) == (["W", "H"] if bias == "none" else ["W", "H", "b"])
    if config.problem is not None:
        assert back.objective() == config.objective()
    back.save(tmp_path / "v2.npz")
    assert json.loads(str(entries_of(tmp_path / "v2.npz")["metadata"]))["schema_version"] == 2


# Crafted files (issue 15, item 7) ----------------------------------------------------------------


def npy_bytes(header: dict, payload: bytes = b"") -> bytes:
    """A .npy member with a hand-written header (which may lie about the payload)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


def write_members(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)


def member_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_header_claiming_1e12_elements(saved, tmp_path):
    """Property: an entry whose npy header claims 10^12 float64 elements is refused from its
    header, before anything is allocated, naming the entry and the limit."""
    _, entries = saved
    members = {name: member_bytes(value) for name, value in entries.items()}
    members["H"] = npy_bytes(
        {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}, b"\0" * 64
    )
    bad = tmp_path / "huge.npz"
    write_members(bad, members)
    with pytest.raises(InvalidFile, match=r"entry 'H' claims shape \(1000000, 1000000\) "
                       r"\(8000000000000 bytes\), over the limit of 2147483648 bytes"):  # fmt: skip
        load(bad)
    with pytest.raises(InvalidFile, match=r"entry 'H' claims .* but holds 64 bytes"):
        load(bad, max_bytes=10**14)


def test_size_limit_is_overridable(saved):
    """Property: a file over ``max_bytes`` is refused naming the limit and how to raise it; the
    same file loads under the default limit."""
    path, _ = saved
    with pytest.raises(InvalidFile, match=r"over the limit of 100 bytes .*max_bytes="):
        load(path, max_bytes=100)
    assert load(path).K == 3
    with pytest.raises(InvalidParameter, match="max_bytes must be an integer >= 1"):
        load(path, max_bytes=0)


def rewrite_metadata(saved, tmp_path, text: str):
    _, entries = saved
    entries["metadata"] = np.array(text)
    bad = tmp_path / "bad.npz"
    write_archive(bad, **entries)
    return bad


def test_5000_digit_integer(saved, tmp_path):
    """Property: a 5000-digit integer in the metadata is an InvalidFile, not a ValueError; so is a
    number literal that overflows to infinity."""
    original = str(saved[1]["metadata"])
    text = original.replace('"K": 3', '"K": ' + "9" * 5000)
    with pytest.raises(InvalidFile, match=r"an integer of 5000 digits \(at most 19\)"):
        load(rewrite_metadata(saved, tmp_path, text))
    text = original.replace('"K": 3', '"K": 1e999')
    with pytest.raises(InvalidFile, match=r"metadata holds a non-finite number \(inf\)"):
        load(rewrite_metadata(saved, tmp_path, text))


def test_metadata_nested_100000_deep(saved, tmp_path):
    """Property: metadata nested 100,000 deep is an InvalidFile, not a RecursionError; so is
    nesting just past the documented depth (33)."""
    _, entries = saved
    meta = json.loads(str(entries["metadata"]))
    for depth in (100_000, 32):
        text = json.dumps(meta)[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
        with pytest.raises(InvalidFile, match=r"metadata nests deeper than this reader allows"):
            load(rewrite_metadata(saved, tmp_path, text))


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda m: m.update(comment="hi"), r"missing \[\], unknown \['comment'\]"),
        (lambda m: m.pop("created"), r"missing \['created'\], unknown \[\]"),
        (lambda m: m.update(extra=[1]), r"metadata 'extra' must be of JSON type object"),
        (lambda m: m.update(ufm_version=1), r"'ufm_version' must be of JSON type string"),
        (lambda m: m.update(schema_version=True), r"schema_version True is not supported"),
        (lambda m: m.update(blocks=[["W", "3x4"]]), r"'blocks' must list \[name, shape\] pairs"),
        (lambda m: m.update(blocks=m["blocks"][:2]), r"unexpected entries \['b'\]"),
        (lambda m: m.update(model="sphere"), r"metadata 'model' is 'sphere' but the problem's"),
        (lambda m: m["problem"].update(class_sizes=[10**15] * 3), r"add up to 3000000000000000"),
        (lambda m: m["problem"].update(lambda_W=float("inf")), r"Infinity is not allowed"),
        (lambda m: m.update(produced_by={"method": 3}), r"'method' \(a string\)"),
    ],
)
def test_strict_metadata_schema(saved, tmp_path, edit, pattern):
    """Property: the metadata schema is strict: every key required, unknown top-level keys refused,
    each key of its JSON type, the blocks and class sizes consistent with the arrays (checked
    before the problem allocates anything)."""
    _, entries = saved
    meta = json.loads(str(entries["metadata"]))
    edit(meta)
    with pytest.raises(InvalidFile, match=pattern):
        load(rewrite_metadata(saved, tmp_path, json.dumps(meta)))


def test_pickled_and_foreign_members(saved, tmp_path):
    """Property: an object-dtype member and a member that is not .npy are refused unread."""
    _, entries = saved
    members = {name: member_bytes(value) for name, value in entries.items()}
    members["W"] = npy_bytes({"descr": "|O", "fortran_order": False, "shape": (3, 4)}, b"\0" * 96)
    bad = tmp_path / "pickle.npz"
    write_members(bad, members)
    with pytest.raises(InvalidFile, match=r"entry 'W' holds Python objects"):
        load(bad)
    path, _ = saved
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(InvalidFile, match=r"entry 'notes.txt' is not a .npy array"):
        load(path)
