"""What the ``sweeps`` command logs: levels by package, progress lines in batch logs, Ctrl-C,
the dashboard address."""

from __future__ import annotations

import logging
import os
import signal

import pytest

from sweeps.cli import configure_logging, main
from sweeps.execution.executors import DEFAULT_DASHBOARD, dashboard_address
from tests.reliability.conftest import run_cli_in_process, stop, sweeps_cli, toy, wait_for_points


@pytest.fixture
def restore_logging(monkeypatch):
    monkeypatch.delenv("DASK_LOGGING__DISTRIBUTED", raising=False)
    names = ("", "sweeps", "binnet_core", "binnet_core.compile", "zarr", "numcodecs", "asyncio", "distributed")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("verbose, package, others", [(0, logging.INFO, logging.WARNING),
                                                       (1, logging.DEBUG, logging.WARNING),
                                                       (2, logging.DEBUG, logging.DEBUG)])
def test_levels_package_and_dependencies(verbose, package, others, restore_logging):
    configure_logging(0)  # a second call (another command in the same process) sets every level again
    configure_logging(verbose)
    assert logging.getLogger("sweeps.execution.driver").getEffectiveLevel() == package
    assert logging.getLogger("binnet_core.compile").getEffectiveLevel() == package
    for name in ("zarr.core", "numcodecs", "asyncio", "distributed.scheduler"):
        assert logging.getLogger(name).getEffectiveLevel() == others, name
    assert os.environ["DASK_LOGGING__DISTRIBUTED"] == logging.getLevelName(others).lower()


def test_batch_log_has_progress_lines(tmp_path):
    definition, store = toy(tmp_path / "toy.toml", "sleep = 0.05"), tmp_path / "r.zarr"
    result = run_cli_in_process("run", definition, "--store", store, "--threads", "1", "--limit", "4",
                                "--progress-interval", "0.5")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "progress: " in line]
    assert lines, result.stderr
    assert " ok, " in lines[-1] and " failed, " in lines[-1] and " todo of 4; " in lines[-1]
    assert "points/s; ETA " in lines[-1]
    quiet = run_cli_in_process("run", definition, "--store", tmp_path / "q.zarr", "--threads", "1", "--limit", "2",
                               "--progress-interval", "0")
    assert "progress: " not in quiet.stderr


def test_dashboard_address_is_loopback_only(toy_definition, store_path, capsys):
    assert dashboard_address(None) == DEFAULT_DASHBOARD == "127.0.0.1:8787"
    assert dashboard_address(":8790") == dashboard_address("localhost:8790") == "127.0.0.1:8790"
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        dashboard_address("0.0.0.0:8787")
    with pytest.raises(SystemExit) as exc:
        main(["run", str(toy_definition()), "--store", str(store_path), "--processes", "1", "--dashboard", "0.0.0.0:1"])
    assert exc.value.code == 2 and not store_path.exists()


@pytest.mark.distributed
def test_ctrl_c_of_a_processes_run_ends_with_one_line(tmp_path):
    definition, store = toy(tmp_path / "toy.toml", "sleep = 0.05"), tmp_path / "r.zarr"
    proc = sweeps_cli("run", definition, "--store", store, "--processes", "1", "--dashboard", "127.0.0.1:0",
                      start_new_session=True)
    try:
        wait_for_points(store, proc, minimum=1)
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C: the driver and its worker processes
        _, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("interrupted: ") and "run the same command to resume" in lines[-1]
    assert "Traceback" not in err and "CommClosedError" not in err, err
    assert " INFO distributed" not in err and "dashboard at http://127.0.0.1:" in err, err
