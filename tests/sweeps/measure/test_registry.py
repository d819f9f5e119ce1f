"""The measurement registry: a registered measurement appears in the variable specs with its dims."""

from __future__ import annotations

import numpy as np
import pytest

from sweeps.measure.registry import CLUSTER, POPULATION, Registry


def test_registered_measurement_is_in_the_specs_with_its_dims_and_computes():
    registry = Registry()
    registry.register("rate", (POPULATION,), "float64", "Hz", "mean rate")(lambda ctx: ctx["rate"])
    registry.register("trace", (CLUSTER,), "int32", "1", "a trace", trace=True)(lambda ctx: ctx["trace"])
    (rate, trace) = registry.specs()
    assert (rate.name, rate.dims, rate.dtype, rate.units) == ("rate", (POPULATION,), np.dtype("float64"), "Hz")
    assert np.isnan(rate.fill) and (trace.dims, trace.fill) == ((CLUSTER,), -1)
    assert [s.name for s in registry.specs(keep_traces=False)] == ["rate"]
    out = registry.compute({"rate": [1, 2], "trace": [3.0]})
    assert out["rate"].dtype == np.float64 and out["trace"].dtype == np.int32
    assert "rate" in registry and "other" not in registry


def test_unknown_dims_and_duplicate_names_are_refused():
    registry = Registry()
    with pytest.raises(ValueError, match="unknown dims"):
        registry.register("x", ("neuron",), "float64", "1", "x")
    registry.register("x", (), "float64", "1", "x")(lambda ctx: 0.0)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("x", (), "float64", "1", "x")


def test_an_optional_measurement_is_stored_only_when_its_options_enable_it():
    registry = Registry()
    registry.register("always", (), "float64", "1", "always")(lambda ctx: 1.0)
    registry.register("optional", (), "float64", "1", "optional",
                      enabled=lambda options: options["on"])(lambda ctx: 2.0)
    assert [s.name for s in registry.specs(options={"on": False})] == ["always"]
    assert [s.name for s in registry.specs(options={"on": True})] == ["always", "optional"]

    class Context:
        options = {"on": False}

    assert list(registry.compute(Context())) == ["always"]
