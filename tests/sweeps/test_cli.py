"""The ``sweeps`` command: validate, run, status, show, exit codes."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from sweeps.cli import main
from tests.conftest import subprocess_env


def test_validate_reports_grid_tasks_and_size(toy_definition, capsys):
    assert main(["validate", str(toy_definition())]) == 0
    out = capsys.readouterr().out
    assert "grid: R_Eplus=3 x g=3 x seed=2 -> 18 points = 18 tasks" in out
    assert "predicted store size <=" in out


@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_definition_exits_2_with_one_line_and_no_store(command, toy_definition, store_path, capsys):
    path = toy_definition()
    path.write_text(path.read_text().replace("R_Eplus = [1.0, 2.0, 3.0]", "R_Eplus = [1.0, 1.0]"))
    argv = [command, str(path)] + (["--store", str(store_path)] if command == "run" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"{path}: sweep.R_Eplus: duplicate values [1.0]; axis values must be distinct"
    assert not store_path.exists()


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "file: cannot read" in capsys.readouterr().err


def test_run_status_show_with_a_failing_point(toy_definition, store_path, capsys):
    definition = toy_definition(extra_parameters="fail_g = 1.2")
    assert main(["run", str(definition), "--store", str(store_path), "--threads", "2"]) == 1
    out = capsys.readouterr().out
    assert "executed 18 points (12 ok, 6 failed)" in out
    assert main(["status", str(store_path)]) == 1
    out = capsys.readouterr().out
    assert "18 points: 0 todo, 12 ok, 6 failed" in out
    assert out.splitlines()[1:] == [  # one line per distinct message, with its first point
        "  6 failed: FloatingPointError: NaN weights at g=1.2 (first: point 4, R_Eplus[0], g[2], seed[0])"]
    assert main(["show", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "R_Eplus" in out and "mean_activity_E" in out and "status: 12/18 ok, 6 failed" in out


def test_show_into_a_closed_pipe_exits_quietly(toy_definition, store_path):
    assert main(["run", str(toy_definition()), "--store", str(store_path), "--threads", "2"]) == 0
    code = "import sys; from sweeps.cli import main; sys.exit(main(sys.argv[1:]))"
    reader_gone = subprocess.Popen([sys.executable, "-c", code, "show", str(store_path)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=subprocess_env())
    reader_gone.stdout.close()  # like ``sweeps show | head -0``: nothing is ever read
    _, err = reader_gone.communicate(timeout=120)
    assert reader_gone.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_run_all_ok_exits_0_and_rerun_executes_nothing(toy_definition, store_path, capsys):
    argv = ["run", str(toy_definition()), "--store", str(store_path), "--threads", "2"]
    assert main(argv) == 0
    assert main(argv) == 0
    assert "executed 0 points" in capsys.readouterr().out
    assert main(["status", str(store_path)]) == 0


def test_locked_store_exits_2_naming_the_holder(toy_definition, store_path, capsys):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (store_path.parent / f"{store_path.name}.lock").write_text(
            f'{{"host": "{socket.gethostname()}", "pid": {live.pid}, "since": "t0"}}')
        assert main(["run", str(toy_definition()), "--store", str(store_path)]) == 2
        assert f"in use by pid {live.pid}" in capsys.readouterr().err
    finally:
        live.kill()
        live.wait()


def test_bad_arguments_exit_2(toy_definition, store_path):
    with pytest.raises(SystemExit) as info:
        main(["run", str(toy_definition()), "--store", str(store_path), "--threads", "0"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["run", str(toy_definition()), "--store", str(store_path), "--threads", "1", "--processes", "2"])
    assert info.value.code == 2


def test_python_dash_m_sweeps(toy_definition, store_path):
    done = subprocess.run([sys.executable, "-m", "sweeps", "run", str(toy_definition()), "--store", str(store_path)],
                          env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "18/18 ok" in done.stdout


def test_plot_phase_diagram_and_traces(toy_definition, store_path, tmp_path, capsys):
    assert main(["run", str(toy_definition()), "--store", str(store_path), "--threads", "2"]) == 0
    phase = tmp_path / "phase.png"
    assert main(["plot", str(store_path), "--var", "mean_activity_E", "--x", "R_Eplus", "--y", "g",
                 "-o", str(phase), "--width", "4", "--height", "3", "--dpi", "50"]) == 0
    assert phase.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    traces = tmp_path / "traces.png"
    assert main(["plot", str(store_path), "--point", "R_Eplus=2.0", "g=1.1", "seed=0", "-o", str(traces)]) == 0
    assert traces.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["plot", str(store_path), "--var", "mean_activity_E", "-o", str(tmp_path / "x.png")]) == 2
    assert "--var needs both --x AXIS and --y AXIS" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("command", ["run", "submit"])
@pytest.mark.parametrize(("flags", "message"), [
    (["--walltime", "25h"], "cluster.walltime: '25h' is not a duration HH:MM:SS or D-HH:MM:SS (e.g. '04:00:00', '1-00:00:00')"),
    (["--adapt", "3"], "cluster.adaptive: --adapt '3': expected MIN:MAX, e.g. 1:10"),
    (["--cores", "4", "--processes-per-job", "3"], "cluster.processes: 3 does not divide cores=4"),
])
def test_bad_cluster_override_exits_2_with_one_line_and_no_store(command, flags, message, toy_definition,
                                                                 store_path, capsys):
    # invalid before any batch system is asked: no scheduler needed
    path = toy_definition()
    assert main([command, str(path), "--store", str(store_path), "--cluster", "slurm", *flags]) == 2
    assert capsys.readouterr().err.splitlines() == [f"{path}: {message}"]
    assert not store_path.exists()


def test_cluster_overrides_need_cluster(toy_definition, store_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", str(toy_definition()), "--store", str(store_path), "--cores", "4"])
    assert info.value.code == 2
    assert "cluster overrides (--queue, --cores, ...) need --cluster slurm|pbs" in capsys.readouterr().err
    assert not store_path.exists()


@pytest.mark.parametrize("command", ["run", "submit"])
def test_without_batch_system_exits_2_before_any_work(command, toy_definition, store_path, tmp_path,
                                                      monkeypatch, capsys):
    # PBS without pbsnodes skips the resource check, but qsub itself must exist
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    path = toy_definition()
    assert main([command, str(path), "--store", str(store_path), "--cluster", "pbs"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: cluster.kind: 'qsub' not found on this host; is the batch system available here?"]
    assert not store_path.exists()
    assert list(store_path.parent.glob("sweeps-driver-*")) == []  # no script left behind


def test_validate_checks_the_cluster_table(toy_definition, capsys):
    path = toy_definition()
    path.write_text(path.read_text() + '\n[cluster]\ncores = 4\nmemory = "8GB"\njobs = 3\n')
    assert main(["validate", str(path)]) == 0
    assert "  cluster: 3 jobs x 4 cores, 8GB, walltime 01:00:00" in capsys.readouterr().out
    path.write_text(path.read_text().replace("cores = 4", "cores = 0"))
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: cluster.cores: expected a positive integer, got 0"]


def test_run_output_is_a_sentence_without_raw_reprs(toy_definition, store_path):
    result = subprocess.run([sys.executable, "-m", "sweeps", "run", str(toy_definition()), "--store", str(store_path),
                             "--threads", "2", "--limit", "4"], env=subprocess_env(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr  # --limit 4: did its share
    assert "RunSummary(" not in result.stdout + result.stderr and "PointResult(" not in result.stderr
    (line,) = result.stdout.splitlines()[:1]
    assert line.startswith(f"{store_path}: executed 4 points (4 ok, 0 failed) in ") and line.endswith(" s; 4/18 ok")
    assert f"run into {store_path} finished: executed 4 points (4 ok, 0 failed) in " in result.stderr
