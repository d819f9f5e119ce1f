"""Extending the package from outside it: a backend, a batch system and a measurement option,
each one class (or function) plus one registry line, registered from this file only."""

from __future__ import annotations

import concurrent.futures
import json
import re
import stat

import numpy as np
import pytest
import xarray as xr

import sweeps
from sweeps import cli
from sweeps.errors import DefinitionError
from sweeps.execution.backends import EXECUTORS, register_executor
from sweeps.execution.batch.systems import BATCH_SYSTEMS, BatchSystem, register_batch_system
from sweeps.execution.executors import Executor
from sweeps.execution.task import TIMING_VARIABLES
from sweeps.measure.measurements import REGISTRY
from sweeps.measure.registry import OptionSpec
from sweeps.spec.definition import parse_experiment
from sweeps.store.sweep_store import OK


def _data(ds: xr.Dataset) -> xr.Dataset:
    return ds.drop_vars([v for v in TIMING_VARIABLES if v in ds]).load()


# --------------------------------------------------------------------------- a backend


class Inline(Executor):
    """Runs every task at once, in the driver's thread."""

    name = "inline"
    submitted = 0

    def submit(self, fn, *args):
        Inline.submitted += 1
        future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args))
        except BaseException as err:  # the driver reports it as the point's failure
            future.set_exception(err)
        return future


@pytest.fixture
def inline_backend():
    register_executor("mine", lambda experiment, value=None, **options: Inline())
    yield "mine"
    EXECUTORS.pop("mine")


def test_a_registered_backend_runs_a_sweep_like_threads(inline_backend, toy_definition, tmp_path):
    path = toy_definition()
    Inline.submitted = 0
    mine = sweeps.run(path, tmp_path / "mine.zarr", backend=inline_backend, progress=False)
    assert Inline.submitted > 0
    threads = sweeps.run(path, tmp_path / "threads.zarr", backend="threads", progress=False)
    assert (mine.status == OK).all()
    assert mine.attrs["runs"][-1]["backend"] == "inline"
    xr.testing.assert_equal(_data(mine), _data(threads))


def test_unknown_backends_list_the_registered_ones(inline_backend, toy_definition, tmp_path):
    with pytest.raises(ValueError, match="backend: 'gpu' is not one of 'threads', 'processes', 'mine', 'slurm'"):
        sweeps.run(toy_definition(), tmp_path / "x.zarr", backend="gpu")


# --------------------------------------------------------------------------- a batch system


class Fake(BatchSystem):
    """A batch system whose submission tool is a script of the test."""

    name = "fake"
    log_marker = "%j"

    def __init__(self, tool):
        self.submit_tool = str(tool)

    def directives(self, config, *, log, walltime):
        return [f"#FAKE --output={log}", f"#FAKE --time={walltime}", f"#FAKE --mem={self.memory_mb(config.driver_memory)}M"]

    def parse_job_id(self, stdout):
        return stdout.split()[-1]  # "Submitted fake job 4242"


@pytest.fixture
def fake_batch_system(tmp_path):
    record = tmp_path / "submitted-args"
    tool = tmp_path / "fakesub"
    tool.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {record}\necho 'Submitted fake job 4242'\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    register_batch_system(Fake(tool))
    yield record
    BATCH_SYSTEMS.pop("fake")


def test_a_registered_batch_system_submits_the_driver(fake_batch_system, toy_definition, tmp_path, capsys):
    logs = tmp_path / "logs"
    path = toy_definition(name="fake.toml")
    path.write_text(path.read_text() + f'\n[cluster]\nkind = "fake"\nlog_directory = "{logs}"\n'
                    'driver_memory = "1GB"\ndriver_walltime = "02:00:00"\n')
    assert cli.main(["submit", str(path), "--store", str(tmp_path / "s.zarr")]) == 0
    out = capsys.readouterr().out
    assert "submitted driver job 4242" in out
    assert f"log: {logs / 'sweeps-driver-4242.log'}" in out
    (script,) = fake_batch_system.read_text().split()  # the tool got the job script, nothing else
    lines = open(script).read().splitlines()
    assert lines[:4] == ["#!/usr/bin/env bash", f"#FAKE --output={logs / 'sweeps-driver-%j.log'}",
                         "#FAKE --time=02:00:00", "#FAKE --mem=954M"]
    assert lines[-1].endswith(f"sweeps run {path} --store {tmp_path / 's.zarr'} --cluster fake")


def test_the_cluster_kind_lists_the_registered_batch_systems(fake_batch_system):
    from sweeps.errors import ClusterConfigError
    from sweeps.execution.batch.config import ClusterConfig

    assert ClusterConfig.from_mapping({"kind": "fake"}).kind == "fake"
    with pytest.raises(ClusterConfigError, match="'lsf' is not one of slurm, pbs, fake"):
        ClusterConfig.from_mapping({"kind": "lsf"})


# --------------------------------------------------------------------------- a measurement option


def _check_scale(value, values) -> float:
    if not value > 0:
        raise ValueError(f"must be > 0, got {value}")
    return float(value)


@pytest.fixture
def scaled_measurement():
    """``scaled_activity_E = my_scale * mean_activity_E``, with the option ``[output] my_scale``."""

    @REGISTRY.register("scaled_activity_E", (), "float64", "1", "mean E activity times my_scale",
                       options=[OptionSpec("my_scale", (int, float), 1.0, _check_scale)])
    def _scaled(ctx):
        return ctx.options["my_scale"] * REGISTRY_ITEMS["mean_activity_E"].compute(ctx)

    yield "scaled_activity_E"
    REGISTRY.unregister("scaled_activity_E")
    assert "my_scale" not in REGISTRY.options


REGISTRY_ITEMS = {m.spec.name: m for m in REGISTRY}


def test_a_registered_measurement_reads_its_own_output_option(scaled_measurement, toy_definition, tmp_path):
    ds = sweeps.run(toy_definition(extra_output="my_scale = 2.5"), tmp_path / "s.zarr", progress=False)
    assert (ds.status == OK).all()
    np.testing.assert_array_equal(ds.scaled_activity_E.values, 2.5 * ds.mean_activity_E.values)
    assert ds.mean_activity_E.values.max() > 0
    assert json.loads(ds.attrs["sweeps_identity"])["output"]["my_scale"] == 2.5
    with pytest.raises(DefinitionError, match="output.my_scale: must be > 0, got 0"):
        parse_experiment(toy_definition(extra_output="my_scale = 0").read_text())


def test_unknown_output_keys_still_fail_with_the_allowed_list(scaled_measurement, toy_definition):
    allowed = ("keep_traces, cluster_threshold, cluster_off_threshold, correlation_neurons, min_episode, episode_edges, "
               "points_per_chunk, raster_neurons, raster_stride, raster_events, raster_networks, raster_inits, my_scale")
    message = f"output.my_scal: unknown key (did you mean 'my_scale'?); allowed: {allowed}"
    with pytest.raises(DefinitionError, match=f"^{re.escape(message)}$"):
        parse_experiment(toy_definition(extra_output="my_scal = 2.0").read_text())


def test_the_option_leaves_with_the_measurement(toy_definition):
    assert "scaled_activity_E" not in REGISTRY and "my_scale" not in REGISTRY.options
    with pytest.raises(DefinitionError, match="output.my_scale: unknown key"):
        parse_experiment(toy_definition(extra_output="my_scale = 2.0").read_text())
