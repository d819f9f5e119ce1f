"""Cluster layer without a batch system: configuration, job scripts, preflight parsing."""

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sweeps.errors import ClusterConfigError, PreflightError
from sweeps.execution.batch.config import (
    AdaptiveRange,
    ClusterConfig,
    add_cluster_arguments,
    format_walltime,
    override_arguments,
    overrides_from_args,
    parse_walltime,
)
from sweeps.execution.batch.jobqueue import make_cluster, worker_job_script
from sweeps.execution.batch.submit import check_resources, driver_job_script
from sweeps.execution.batch.systems import NodeResources, parse_pbsnodes, parse_sinfo

TABLE = {
    "partition": "compute",
    "account": "proj42",
    "cores": 8,
    "processes": 2,
    "memory": "16GB",
    "walltime": "02:00:00",
    "jobs": 3,
    "job_extra_directives": ["--qos=normal", "--constraint=skylake"],
    "job_script_prologue": ["module load python/3.11", "source /opt/venv/bin/activate"],
    "interface": "ib0",
    "local_directory": "$TMPDIR",
}


def config(kind="slurm", **changes):
    """The example table with changes; a change to None removes the key."""
    table = {k: v for k, v in {**TABLE, **changes}.items() if v is not None}
    return ClusterConfig.from_mapping(table, kind)


def header(script, prefix):
    return [line for line in script.splitlines() if line.startswith(prefix)]


def worker_argv(script):
    line = next(line for line in script.splitlines() if "distributed.cli.dask_worker" in line)
    return shlex.split(line)


def option(argv, name):
    return argv[argv.index(name) + 1]


# ----------------------------------------------------------------------------- job scripts


def test_slurm_worker_script_directives():
    script = worker_job_script(config(), "tcp://10.0.0.1:8786")
    assert header(script, "#SBATCH") == [
        "#SBATCH -J sweeps-worker",
        "#SBATCH -p compute",
        "#SBATCH -A proj42",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --mem=15G",  # 16e9 bytes rounded up to GiB
        "#SBATCH -t 02:00:00",
        "#SBATCH --qos=normal",
        "#SBATCH --constraint=skylake",
    ]
    lines = script.splitlines()
    dask_line = next(i for i, line in enumerate(lines) if "dask_worker" in line)
    assert lines[dask_line - 2 : dask_line] == TABLE["job_script_prologue"]


def test_worker_command_arguments():
    argv = worker_argv(worker_job_script(config(), "tcp://10.0.0.1:8786"))
    assert argv[:3] == [sys.executable, "-m", "distributed.cli.dask_worker"]
    assert argv[3] == "tcp://10.0.0.1:8786"
    assert option(argv, "--nworkers") == "2"
    assert option(argv, "--nthreads") == "4"  # cores / processes
    assert option(argv, "--memory-limit") == "7.45GiB"  # 16 GB / 2 processes
    assert option(argv, "--interface") == "ib0"
    assert option(argv, "--local-directory") == "$TMPDIR"
    # walltime 2 h: leave between 2h - 5min - 4min and 2h - 5min
    assert option(argv, "--lifetime") == f"{7200 - 300 - 120}s"
    assert option(argv, "--lifetime-stagger") == "120s"
    assert "--lifetime-restart" not in argv


def test_pbs_worker_script_directives():
    script = worker_job_script(config("pbs", queue="workq", partition=None), "tcp://h:1")
    assert header(script, "#PBS") == [
        "#PBS -N sweeps-worker",
        "#PBS -q workq",
        "#PBS -A proj42",
        "#PBS -l select=1:ncpus=8:mem=15GB",
        "#PBS -l walltime=02:00:00",
        "#PBS --qos=normal",
        "#PBS --constraint=skylake",
    ]
    argv = worker_argv(script)
    assert option(argv, "--lifetime") == "6780s"
    assert option(argv, "--interface") == "ib0"


def test_interface_default_is_none():
    plain = ClusterConfig.from_mapping({}, "slurm")
    assert plain.interface is None
    assert "--interface" not in worker_argv(worker_job_script(plain))


def test_python_and_log_directory(tmp_path):
    logs = tmp_path / "logs"
    script = worker_job_script(config(python="/opt/venv/bin/python", log_directory=str(logs)))
    assert worker_argv(script)[0] == "/opt/venv/bin/python"
    assert f"#SBATCH -o {logs}/sweeps-worker-%J.out" in script.splitlines()
    assert f"#SBATCH -e {logs}/sweeps-worker-%J.err" in script.splitlines()


@given(st.integers(min_value=20, max_value=14 * 86400))
def test_derived_lifetime_leaves_before_walltime(walltime_s):
    cfg = ClusterConfig.from_mapping({"walltime": format_walltime(walltime_s)}, "slurm")
    lifetime, stagger = cfg.worker_lifetime
    margin = min(300, walltime_s / 10)
    assert lifetime - stagger > 0
    assert lifetime + stagger <= walltime_s - margin
    assert walltime_s - (lifetime + stagger) <= 300 + 1  # not needlessly early for long jobs


def test_explicit_lifetime_margins():
    cfg = config(walltime="01:00:00", lifetime_margin="10m", lifetime_stagger=60)
    assert cfg.worker_lifetime == (3600 - 600 - 60, 60)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"cores": 0}, "cores", "positive integer"),
        ({"cores": "8"}, "cores", "positive integer"),
        ({"cores": True}, "cores", "positive integer"),
        ({"jobs": -1}, "jobs", "positive integer"),
        ({"processes": 3}, "processes", "does not divide cores=8"),
        ({"memory": "lots"}, "memory", "like '4GB'"),
        ({"memory": 16}, "memory", "non-empty string"),
        ({"walltime": "2h"}, "walltime", "HH:MM:SS"),
        ({"walltime": "00:00:00"}, "walltime", "longer than zero"),
        ({"walltime": "00:00:30", "lifetime_margin": 60}, "walltime", "no worker lifetime"),
        ({"walltime": "00:02:00", "lifetime_margin": 60, "lifetime_stagger": 30}, "walltime",
         "no worker lifetime"),
        ({"lifetime_stagger": "soon"}, "lifetime_stagger", "duration"),
        ({"job_extra_directives": "--qos=x"}, "job_extra_directives", "list of strings"),
        ({"job_script_prologue": [1]}, "job_script_prologue", "list of strings"),
        ({"adaptive": {"minimum": 1, "maximum": 4}}, "adaptive", "either 'jobs' or 'adaptive'"),
        ({"queue": "q"}, "partition", "either 'queue' or 'partition'"),
        ({"walltme": "01:00:00"}, "walltme", "did you mean 'walltime'"),
        ({"driver_walltime": "1:00"}, "driver_walltime", "HH:MM:SS"),
        ({"driver_memory": "0GB"}, "driver_memory", "amount of memory"),
    ],
)
def test_invalid_table_names_field(changes, field, needle):
    with pytest.raises(ClusterConfigError) as info:
        config(**changes)
    message = str(info.value)
    assert message.startswith(f"cluster.{field}: ")
    assert needle in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "adaptive", [{"minimum": 3, "maximum": 2}, {"minimum": 0, "maximum": 0}, {"maximum": 2},
                 {"minimum": 1, "maximum": 2.5}, [1, 2]]
)
def test_invalid_adaptive(adaptive):
    with pytest.raises(ClusterConfigError, match=r"^cluster\.adaptive: "):
        ClusterConfig.from_mapping({"adaptive": adaptive}, "slurm")


def test_kind_is_checked_and_argument_wins():
    with pytest.raises(ClusterConfigError, match=r"^cluster\.kind: 'sge' is not one of slurm, pbs"):
        ClusterConfig.from_mapping({}, "sge")
    with pytest.raises(ClusterConfigError, match=r"^cluster\.kind: None"):
        ClusterConfig.from_mapping({})
    assert ClusterConfig.from_mapping({"kind": "pbs"}).kind == "pbs"
    assert ClusterConfig.from_mapping({"kind": "pbs"}, "slurm").kind == "slurm"
    with pytest.raises(ClusterConfigError, match=r"^cluster: expected a table"):
        ClusterConfig.from_mapping(["slurm"], "slurm")


def test_adaptive_replaces_jobs():
    cfg = ClusterConfig.from_mapping({"adaptive": {"minimum": 0, "maximum": 5}}, "pbs")
    assert cfg.jobs is None and cfg.adaptive == AdaptiveRange(0, 5)


def test_round_trip_through_mapping():
    for cfg in (config(), config("pbs", lifetime_margin=90), ClusterConfig.from_mapping(
            {"adaptive": {"minimum": 1, "maximum": 3}}, "slurm")):
        assert ClusterConfig.from_mapping(cfg.to_mapping()) == cfg


def test_overrides_merge_and_revalidate():
    base = config()
    assert base.with_overrides({"jobs": 5, "walltime": None}).jobs == 5
    assert base.with_overrides({"walltime": None}).walltime == "02:00:00"
    adaptive = base.with_overrides({"adaptive": {"minimum": 1, "maximum": 9}})
    assert (adaptive.jobs, adaptive.adaptive) == (None, AdaptiveRange(1, 9))
    assert adaptive.with_overrides({"jobs": 2}).adaptive is None
    assert base.with_overrides({"partition": "long"}).queue == "long"
    assert base.with_overrides({"kind": "pbs"}).kind == "pbs"
    with pytest.raises(ClusterConfigError, match=r"^cluster\.cores: "):
        base.with_overrides({"cores": 0})


def test_cli_overrides():
    parser = argparse.ArgumentParser()
    add_cluster_arguments(parser)
    args = parser.parse_args(["--queue", "long", "--jobs", "4", "--walltime", "12:00:00",
                              "--adapt", "2:8", "--processes-per-job", "2"])
    overrides = overrides_from_args(args)
    assert overrides == {"queue": "long", "jobs": 4, "walltime": "12:00:00", "processes": 2,
                         "adaptive": {"minimum": 2, "maximum": 8}}
    # what `sweeps submit` passes on to the driver job parses back to the same overrides
    assert overrides_from_args(parser.parse_args(override_arguments(overrides))) == overrides
    assert overrides_from_args(parser.parse_args([])) == {}
    with pytest.raises(ClusterConfigError, match="MIN:MAX"):
        overrides_from_args(parser.parse_args(["--adapt", "3"]))


def test_make_cluster_rejects_unknown_interface():
    with pytest.raises(ClusterConfigError, match=r"^cluster\.interface: 'nonexistent0' is not"):
        make_cluster(config(interface="nonexistent0"))


def test_walltime_helpers():
    assert parse_walltime("36:00:05") == 36 * 3600 + 5
    assert format_walltime(parse_walltime("100:59:59")) == "100:59:59"


# ----------------------------------------------------------------------------- preflight

SINFO = """\
debug* 2 7800 1:00:00
compute 48 191000 2-00:00:00
compute 64+ 385000+ 2-00:00:00
short 16 64000 30:00
long 32 128000 infinite
"""


def test_parse_sinfo():
    nodes = parse_sinfo(SINFO)
    assert nodes[0] == NodeResources("debug", 2, 7800, 3600, default=True)
    assert nodes[1].time_limit == 2 * 86400 and not nodes[1].cpus_at_least
    assert nodes[2].cpus == 64 and nodes[2].cpus_at_least and nodes[2].memory_at_least
    assert nodes[3].time_limit == 30 * 60
    assert nodes[4].time_limit is None


def test_preflight_default_partition():
    nodes = parse_sinfo(SINFO)
    ok = ClusterConfig.from_mapping({"cores": 2, "memory": "4GB", "walltime": "00:30:00"}, "slurm")
    assert check_resources(nodes, ok) == [nodes[0]]
    with pytest.raises(PreflightError, match=r"^cluster\.cores: 4 cores per job, but the largest "
                       r"node in partition 'debug' has 2 CPUs"):
        check_resources(nodes, ok.with_overrides({"cores": 4}))
    with pytest.raises(PreflightError, match=r"^cluster\.memory: 16GB \(15360 MB\) per job"):
        check_resources(nodes, ok.with_overrides({"memory": "16GB"}))
    with pytest.raises(PreflightError, match=r"^cluster\.walltime: 02:00:00 exceeds the time "
                       r"limit 01:00:00 of partition 'debug'"):
        check_resources(nodes, ok.with_overrides({"walltime": "02:00:00"}))


def test_preflight_named_partition():
    nodes = parse_sinfo(SINFO)
    big = ClusterConfig.from_mapping({"queue": "compute", "cores": 48, "memory": "180GB",
                                      "walltime": "24:00:00"}, "slurm")
    assert check_resources(nodes, big) == nodes[1:3]
    # 64+ CPUs: some node has at least 64, maybe more: not rejected
    assert check_resources(nodes, big.with_overrides({"cores": 96})) == [nodes[2]]
    with pytest.raises(PreflightError, match=r"^cluster\.queue: partition 'gpu' does not exist "
                       r"\(available: compute, debug, long, short\)"):
        check_resources(nodes, big.with_overrides({"queue": "gpu"}))
    unlimited = big.with_overrides({"queue": "long", "cores": 32, "memory": "100GB",
                                    "walltime": "500:00:00"})
    assert check_resources(nodes, unlimited) == [nodes[4]]


def test_preflight_driver_job():
    nodes = parse_sinfo(SINFO)
    cfg = ClusterConfig.from_mapping({"walltime": "00:30:00", "driver_walltime": "03:00:00"},
                                     "slurm")
    check_resources(nodes, cfg)
    with pytest.raises(PreflightError, match=r"^cluster\.driver_walltime: 03:00:00 exceeds"):
        check_resources(nodes, cfg, driver=True)
    with pytest.raises(PreflightError, match=r"^cluster\.driver_memory: "):
        check_resources(nodes, cfg.with_overrides({"driver_memory": "9GB",
                                                   "driver_walltime": "00:30:00"}), driver=True)


PBSNODES_PRO = """\
node001
     Mom = node001.cluster
     state = free
     resources_available.mem = 196608000kb
     resources_available.ncpus = 40
     resources_assigned.ncpus = 0

node002
     Mom = node002.cluster
     state = job-busy
     resources_available.mem = 384gb
     resources_available.ncpus = 64
"""

PBSNODES_TORQUE = """\
n01
     state = free
     np = 16
     status = rectime=1700000000,ncpus=16,physmem=65856160kb,availmem=60000000kb
"""


def test_parse_pbsnodes():
    assert parse_pbsnodes(PBSNODES_PRO) == [NodeResources(None, 40, 192000),
                                            NodeResources(None, 64, 384 * 1024)]
    assert parse_pbsnodes(PBSNODES_TORQUE) == [NodeResources(None, 16, 65856160 // 1024)]
    words = parse_pbsnodes(PBSNODES_TORQUE.replace("physmem=65856160kb", "physmem=8000000w"))
    assert words == [NodeResources(None, 16, 0, memory_at_least=True)]  # unknown unit: unchecked
    assert check_resources(words, ClusterConfig.from_mapping({"memory": "1TB"}, "pbs")) == words
    nodes = parse_pbsnodes(PBSNODES_PRO)
    cfg = ClusterConfig.from_mapping({"cores": 48, "memory": "300GB"}, "pbs")
    assert check_resources(nodes, cfg) == [nodes[1]]
    with pytest.raises(PreflightError, match=r"^cluster\.cores: 128 cores per job, but the "
                       r"largest node in any node has 64 CPUs"):
        check_resources(nodes, cfg.with_overrides({"cores": 128}))


# ----------------------------------------------------------------------------- driver job


def exec_argv(script):
    return shlex.split(script.strip().splitlines()[-1])


def test_slurm_driver_script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my exp").mkdir()
    cfg = config(log_directory=str(tmp_path / "logs"), driver_walltime="24:00:00")
    script = driver_job_script("my exp/e.toml", "out/store.zarr", cfg, ["--jobs", "4"])
    assert header(script, "#SBATCH") == [
        "#SBATCH -J sweeps-driver",
        "#SBATCH -A proj42",
        "#SBATCH -p compute",
        f"#SBATCH -o {tmp_path}/logs/sweeps-driver-%j.log",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem=2G",
        "#SBATCH -t 24:00:00",
        f"#SBATCH --chdir={tmp_path}",
        "#SBATCH --qos=normal",
        "#SBATCH --constraint=skylake",
    ]
    assert exec_argv(script) == ["exec", sys.executable, "-m", "sweeps", "run",
                                 f"{tmp_path}/my exp/e.toml", "--store",
                                 f"{tmp_path}/out/store.zarr", "--cluster", "slurm",
                                 "--jobs", "4"]
    for line in TABLE["job_script_prologue"]:
        assert line in script.splitlines()
    syntax = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert syntax.returncode == 0, syntax.stderr


def test_pbs_driver_script_defaults_next_to_store(tmp_path):
    cfg = ClusterConfig.from_mapping({"queue": "workq", "walltime": "10:00:00"}, "pbs")
    script = driver_job_script(tmp_path / "e.toml", tmp_path / "s.zarr", cfg)
    assert header(script, "#PBS") == [
        "#PBS -N sweeps-driver",
        "#PBS -q workq",
        "#PBS -V",
        "#PBS -j oe",
        "#PBS -l select=1:ncpus=1:mem=1908mb",
        "#PBS -l walltime=10:00:00",
    ]
    assert f'exec >"{tmp_path}/sweeps-driver-${{PBS_JOBID}}.log" 2>&1' in script.splitlines()
    assert exec_argv(script)[-6:] == ["run", str(tmp_path / "e.toml"), "--store",
                                      str(tmp_path / "s.zarr"), "--cluster", "pbs"]
    assert Path(exec_argv(script)[1]).is_absolute()


# ------------------------------------------------------------------ site configuration wins

SITE_YAML = """\
jobqueue:
  slurm:
    cores: 16
    processes: 4
    memory: 64GB
    walltime: "12:00:00"
    account: siteacct
    job-extra-directives: ["--qos=site"]
    python: /site/venv/bin/python
    worker-extra-args: ["--resources", "GPU=0"]
"""


@pytest.fixture
def site_config(tmp_path):
    """A site's jobqueue.yaml in a temporary Dask configuration directory."""
    import dask.config

    (tmp_path / "jobqueue.yaml").write_text(SITE_YAML)
    dask.config.refresh(paths=[str(tmp_path)])
    try:
        yield tmp_path
    finally:
        dask.config.refresh()


def test_site_jobqueue_yaml_applies_where_the_definition_is_silent(site_config):
    cfg = ClusterConfig.from_mapping({"jobs": 2, "memory": "8GB"}, "slurm")  # memory: ours
    assert (cfg.cores, cfg.processes, cfg.memory, cfg.walltime) == (16, 4, "8GB", "12:00:00")
    script = worker_job_script(cfg, "tcp://10.0.0.1:8786")
    assert header(script, "#SBATCH") == [
        "#SBATCH -J sweeps-worker",
        "#SBATCH -A siteacct",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=16",
        "#SBATCH --mem=8G",
        "#SBATCH -t 12:00:00",
        "#SBATCH --qos=site",
    ]
    argv = worker_argv(script)
    assert argv[0] == "/site/venv/bin/python"
    assert option(argv, "--nworkers") == "4" and option(argv, "--nthreads") == "4"
    assert option(argv, "--resources") == "GPU=0"
    assert option(argv, "--lifetime") == f"{12 * 3600 - 300 - 120}s"  # from the site's walltime
    # the command line and the definition still win over the site
    cli = cfg.with_overrides({"cores": 8, "walltime": "02:00:00"})
    assert header(worker_job_script(cli), "#SBATCH")[3:6] == [
        "#SBATCH --cpus-per-task=8", "#SBATCH --mem=8G", "#SBATCH -t 02:00:00"]
    own = worker_job_script(config(), "tcp://h:1")
    assert "#SBATCH -A proj42" in own and "--qos=site" not in own and "--cpus-per-task=8" in own


def test_without_site_configuration_the_package_defaults_apply():
    plain = ClusterConfig.from_mapping({}, "slurm")
    assert (plain.cores, plain.processes, plain.memory, plain.walltime) == (1, 1, "2GB", "01:00:00")
    script = worker_job_script(plain)
    assert "#SBATCH --cpus-per-task=1" in script and "#SBATCH -t 01:00:00" in script
    assert worker_argv(script)[0] == sys.executable
