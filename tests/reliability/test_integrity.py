"""Silent corruption is found: every chunk carries a crc32c checksum; ``sweeps status --verify``
reads every chunk of every array, names what is damaged (per variable and point), resets the
affected ok points to todo so a resume recomputes them, and never shows a traceback.

The commands run through ``sweeps.cli.main`` in the test process (``run_cli_in_process``: its
exit code and streams as a process of its own shows them)."""

from __future__ import annotations

import json
import shutil

import pytest
import zarr

from sweeps import LocalThreads, load_experiment, run_sweep
from sweeps.store.sweep_store import SweepStore
from tests.reliability.conftest import run_cli_in_process, toy
from tests.reliability.test_theory_faults import _arrays, _definition, _same


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished toy store (18 points) and its definition."""
    root = tmp_path_factory.mktemp("integrity")
    definition, store = toy(root / "toy.toml", ""), root / "done.zarr"
    assert run_sweep(load_experiment(definition), store, LocalThreads(1)).complete
    return definition, store


@pytest.fixture
def damaged(finished, tmp_path):
    definition, store = finished
    copy = tmp_path / "s.zarr"
    shutil.copytree(store, copy)
    return definition, copy


def _flip(path, offset=-6):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


def _chunks(store, name):
    return sorted(p for p in (store / name / "c").rglob("*") if p.is_file())


def _clean(proc):
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr


def test_every_array_is_checksummed_and_values_are_unchanged(finished, reference, reliability):
    _, store = finished
    group = zarr.open_group(str(store), mode="r", zarr_format=3, use_consolidated=False)
    for name, array in group.arrays():
        assert any(type(c).__name__ == "Crc32cCodec" for c in array.compressors), name
    reliability.assert_nothing_lost(reference, store)  # the values: bit for bit those of another run


@pytest.mark.parametrize("name", ["mean_activity_E", "activity", "error"])
def test_a_flipped_byte_in_a_data_chunk_is_found_and_the_resume_recomputes_it(name, damaged, reference, reliability):
    definition, store = damaged
    if name == "error":  # written only for failed points: make one chunk exist first
        array = zarr.open_array(str(store / "error"), mode="r+", zarr_format=3)
        array[(0,) * array.ndim] = "x"
    chunk = _chunks(store, name)[0]
    _flip(chunk)
    checked = run_cli_in_process("status", store, "--verify")
    _clean(checked)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"damaged: {name} (chunk" in checked.stdout and "unreadable" in checked.stdout
    reset = SweepStore.open(store).status()
    assert (reset == 0).any() and not chunk.exists()
    assert run_sweep(load_experiment(definition), store, LocalThreads(1)).complete
    assert SweepStore.open(store).verify() == []
    reliability.assert_nothing_lost(reference, store)


def test_a_flipped_byte_in_the_status_chunk_is_one_line_and_verify_recovers(damaged, reference, reliability):
    definition, store = damaged
    _flip(_chunks(store, "status")[0])
    plain = run_cli_in_process("status", store)
    _clean(plain)
    assert plain.returncode == 2 and "the status is damaged" in plain.stderr and "--verify" in plain.stderr
    checked = run_cli_in_process("status", store, "--verify")
    _clean(checked)
    assert "damaged: status (chunk 0.0.0)" in checked.stdout and checked.returncode == 1
    assert run_sweep(load_experiment(definition), store, LocalThreads(1)).complete
    reliability.assert_nothing_lost(reference, store)


def test_a_status_value_that_is_no_status_is_found(damaged, reference, reliability):
    definition, store = damaged
    status = zarr.open_array(str(store / "status"), mode="r+", zarr_format=3)
    status[0, 0, 0] = 7  # written through zarr: the checksum is right, the value is not
    plain = run_cli_in_process("status", store)
    _clean(plain)
    assert plain.returncode == 2 and "values other than todo/ok/failed/unsampled" in plain.stderr
    checked = run_cli_in_process("status", store, "--verify")
    assert "damaged: status: 1 values are not todo/ok/failed/unsampled" in checked.stdout
    assert run_sweep(load_experiment(definition), store, LocalThreads(1)).complete
    reliability.assert_nothing_lost(reference, store)


@pytest.mark.parametrize("name", ["g", "population", "time"])
def test_a_flipped_byte_in_a_coordinate_chunk_is_reported_as_unrepairable(name, damaged, reliability):
    _, store = damaged
    _flip(_chunks(store, name)[0])
    checked = run_cli_in_process("status", store, "--verify")
    _clean(checked)
    assert checked.returncode == 2 and f"damaged: {name} (chunk 0)" in checked.stdout
    assert "a resume cannot repair" in checked.stderr


def test_a_deleted_variable_is_reported_and_a_run_refuses_the_store(damaged, reliability):
    definition, store = damaged
    shutil.rmtree(store / "mean_activity_I")
    checked = run_cli_in_process("status", store, "--verify")
    _clean(checked)
    assert checked.returncode == 2 and "damaged: mean_activity_I: missing" in checked.stdout
    run = run_cli_in_process("run", definition, "--store", store, "--threads", "1")
    _clean(run)
    assert run.returncode == 2 and "mean_activity_I" in run.stderr and "missing" in run.stderr


@pytest.mark.parametrize("where", ["zarr.json", "status/zarr.json", "mean_activity_E/zarr.json"])
def test_junk_in_a_zarr_json_is_one_clear_line(where, damaged, reliability):
    definition, store = damaged
    (store / where).write_text("{ this is not json")
    for args in (("status", store), ("status", store, "--verify"), ("run", definition, "--store", store)):
        proc = run_cli_in_process(*args)
        _clean(proc)
        if args == ("status", store) and where.startswith("mean"):  # plain status reads the status only
            assert proc.returncode == 0
            continue
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.strip() and len(proc.stderr.strip().splitlines()) <= 3, proc.stderr


def test_a_flipped_byte_in_a_theory_chunk_is_found_and_sweeps_theory_recomputes_it(tmp_path, reliability):
    base, store, expected = _definition(tmp_path / "d.toml", focus_counts=[1, 2]), tmp_path / "t.zarr", tmp_path / "e.zarr"
    assert run_sweep(load_experiment(base), store, LocalThreads(1)).complete
    shutil.copytree(store, expected)
    _flip(_chunks(store, "toy_drive")[0])
    checked = run_cli_in_process("status", store, "--verify")
    _clean(checked)
    assert checked.returncode == 0 and "damaged: toy_drive (chunk" in checked.stdout
    assert SweepStore.open(store).theory_info is None  # cleared: the next theory write redoes it
    assert run_cli_in_process("theory", base, "--store", store).returncode == 0
    assert _same(_arrays(store), _arrays(expected))
    assert json.loads((store / "zarr.json").read_text())["attributes"]["sweeps_identity"]
