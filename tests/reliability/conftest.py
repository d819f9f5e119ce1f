"""The fault-injection suite: fixtures, helpers and the summary line.

Every test using the ``reliability`` fixture is a *scenario* (a fault injected into a real
sweep) or a *bad input* (a malformed definition run through the CLI).  Scenarios measure the
points they lost with :func:`lost_points` (``Recorder.assert_nothing_lost``); at the end of the
run the suite prints ``reliability: N scenarios, M bad inputs, K points lost``: the scenarios and
bad inputs that passed and the points lost as measured (only when tests of this package ran).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from sweeps import LocalThreads, load_experiment, open_results, run_sweep
from sweeps.errors import StoreError
from sweeps.execution.task import TIMING_VARIABLES
from sweeps.store.sweep_store import FAILED, OK, SweepStore
from tests.conftest import TOY_TOML, subprocess_env

#: toy model parameter: 20 ms per run() call, ~0.25 s per point (time to inject faults)
SLOW = "sleep = 0.02"
N_POINTS = 18  # the toy grid: 3 R_Eplus x 3 g x 2 seeds


@dataclass
class Tally:
    """What the reliability tests recorded during this pytest run."""

    kinds: dict[str, str] = field(default_factory=dict)  # nodeid -> "scenario" | "bad input"
    passed: set[str] = field(default_factory=set)
    points_lost: int = 0

    def count(self, kind: str) -> int:
        return sum(self.kinds[n] == kind for n in self.passed if n in self.kinds)


TALLY = Tally()


class Recorder:
    """Per-test handle: marks the test as a scenario or a bad input, records lost points."""

    def __init__(self, nodeid: str):
        self.nodeid = nodeid
        TALLY.kinds[nodeid] = "scenario"

    def bad_input(self) -> None:
        TALLY.kinds[self.nodeid] = "bad input"

    def assert_nothing_lost(self, reference: Path, store: Path, expected_failed: np.ndarray | None = None) -> None:
        """Record how many points of ``store`` were lost, then require none.

        A point is lost if it is not ok or its data differ (bit for bit) from ``reference``;
        points in ``expected_failed`` (a boolean point mask) are lost unless recorded as failed.
        """
        mask = lost_points(reference, store)
        if expected_failed is not None:
            failed = open_results(store).status.values == FAILED
            mask = np.where(expected_failed, ~failed, mask)
        lost = int(mask.sum())
        TALLY.points_lost += lost
        assert lost == 0, f"{lost} points of {store} were lost: {np.flatnonzero(mask.ravel()).tolist()}"


@pytest.fixture
def reliability(request) -> Recorder:
    """Count this test as a scenario (call ``bad_input()`` to count it as a bad input)."""
    return Recorder(request.node.nodeid)


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed:
        TALLY.passed.add(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """``reliability: N scenarios, M bad inputs, K points lost`` (passed tests; lost as measured)."""
    if TALLY.kinds:
        terminalreporter.write_line(
            f"reliability: {TALLY.count('scenario')} scenarios, {TALLY.count('bad input')} bad inputs, "
            f"{TALLY.points_lost} points lost"
        )


def _data(path: Path) -> dict[str, np.ndarray]:
    ds = open_results(path)
    return {name: ds[name].values for name in ds.data_vars if name not in TIMING_VARIABLES}


def lost_points(reference: Path, store: Path) -> np.ndarray:
    """Boolean point mask: not ok in ``store``, or data differ (bit for bit) from ``reference``."""
    ref, got = _data(reference), _data(store)
    assert ref.keys() == got.keys()
    n_dims = open_results(store).status.ndim
    lost = got["status"] != OK
    for name in ref:
        a, b = ref[name], got[name]
        same = (a == b) | ((a != a) & (b != b)) if a.dtype.kind == "f" else a == b
        lost |= ~same.reshape(same.shape[:n_dims] + (-1,)).all(axis=-1)
    return lost


def ok_points_without_data(store: Path) -> int:
    """Points marked ok whose data are not on disk (fill values): must always be 0."""
    ds = open_results(store)
    ok = ds.status.values == OK
    missing = np.isnan(ds.mean_activity_E.values) | np.isnan(ds.activity.values).any(axis=(-2, -1))
    return int((ok & missing).sum())


def interruption_instants(keys: list[str], measured: list[str]) -> list[int]:
    """Write numbers (1-based) to interrupt at: every write of a metadata file (the store's,
    the coordinates', the theory's), and the first and the last write of each run of writes
    of one kind: the chunks of one array (``a/c/0/1`` and ``a/c/2/0``), and the metadata of the
    ``measured`` variables (which a grown grid resizes one after another, all alike)."""
    instants, kinds = set(), {}
    for number, key in enumerate(keys, start=1):
        head = key.partition("/")[0]
        if "/c/" in key:
            kinds.setdefault(key.split("/c/")[0], []).append(number)
        elif head in measured:
            kinds.setdefault("<measured>/zarr.json", []).append(number)
        else:
            instants.add(number)
    return sorted(instants | {n for numbers in kinds.values() for n in (numbers[0], numbers[-1])})


def toy(path: Path, extra_parameters: str = SLOW, extra_output: str = "") -> Path:
    """Write the 18-point toy definition (slow by default) to ``path``."""
    path.write_text(TOY_TOML.format(extra_parameters=extra_parameters, extra_output=extra_output))
    return path


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Path:
    """The toy sweep run once, uninterrupted (``sleep`` and chunking do not change data)."""
    directory = tmp_path_factory.mktemp("reference")
    path = directory / "reference.zarr"
    assert run_sweep(load_experiment(toy(directory / "toy.toml", "")), path, LocalThreads(2)).complete
    return path


def default_sigint() -> None:
    """``preexec_fn`` of a child that must take Ctrl-C: a shell that ignores SIGINT (``nohup``, any
    background job) passes that on to its children, and Python then never raises
    KeyboardInterrupt; the child gets the default disposition back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def python_sigint():
    """Python's Ctrl-C handler in this process for the test, also when the test run ignores
    SIGINT (``nohup``, a background job): ``_thread.interrupt_main()`` does nothing without it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def sweeps_cli(*args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """Start ``python -m sweeps ARGS`` with the worktree importable (plus ``env`` variables), with
    the default SIGINT disposition whatever the test run's (see :func:`default_sigint`)."""
    popen.setdefault("preexec_fn", default_sigint)
    return subprocess.Popen([sys.executable, "-m", "sweeps", *map(str, args)], env={**subprocess_env(), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m sweeps ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "sweeps", *map(str, args)], env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeout)


#: loggers whose level ``sweeps.cli.configure_logging`` sets (restored by ``run_cli_in_process``)
_CLI_LOGGERS = ("", "sweeps", "binnet_core", "binnet_core.compile", "distributed", "tornado", "asyncio", "bokeh")


def run_cli_in_process(*args: str) -> subprocess.CompletedProcess:
    """``sweeps ARGS`` run by ``sweeps.cli.main`` in this process, seen as ``run_cli`` sees it.

    The exit code (argparse's ``SystemExit`` included) and everything the command would write
    to its streams: stdout, and on stderr its own lines, the log records its logging set-up
    prints, and the warnings a fresh interpreter would show.  The process's environment,
    logging, warning filters and signal handlers are restored afterwards.
    """
    from sweeps.cli import main

    root = logging.getLogger()
    handlers, levels = root.handlers[:], {n: logging.getLogger(n).level for n in _CLI_LOGGERS}
    environ = dict(os.environ)
    signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    out, err = io.StringIO(), io.StringIO()
    root.handlers = []  # so that ``logging.basicConfig`` in ``main`` writes to ``err``, as it would
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(record=True) as shown:
            warnings.resetwarnings()  # the filters of a fresh interpreter (``python -m sweeps``)
            warnings.simplefilter("default")
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                warnings.simplefilter("ignore", category)
            try:
                code = main([str(a) for a in args])
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            for w in shown:
                err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        os.environ.clear()
        os.environ.update(environ)
        for number, handler in signals.items():
            signal.signal(number, handler)
    return subprocess.CompletedProcess(["sweeps", *map(str, args)], code, out.getvalue(), err.getvalue())


def stop(proc: subprocess.Popen) -> None:
    """Kill ``proc`` (by its pid) if it still runs, and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Wait until ``path`` exists (``proc`` must keep running meanwhile)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear after {timeout} s")
        time.sleep(0.02)


def ok_count(store: Path) -> int:
    return int(np.sum(SweepStore.open(store, mode="r").status() == OK))


def _ok_count_once_created(store: Path) -> int:
    """``ok_count``, or 0 while the driver is still creating the store (marker not written yet)."""
    try:
        return ok_count(store)
    except (StoreError, ValueError):  # incomplete store, or its metadata caught mid-write
        return 0


def wait_for_points(store: Path, proc: subprocess.Popen | None = None, minimum: int = 2,
                    timeout: float = 90.0) -> None:
    """Wait until ``store`` has ``minimum`` ok points (``proc`` must keep running meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (store / "status" / "zarr.json").exists() and _ok_count_once_created(store) >= minimum:
            return
        if proc is not None:
            assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"no {minimum} ok points in {store} after {timeout} s")
