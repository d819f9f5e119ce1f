"""Vectorised validation of many parameter sets against ``validate_parameters``."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binnet_core.clustered import (
    connection_parameters,
    connection_table,
    validate_parameter_table,
    validate_parameters,
)
from binnet_core.meanfield.systems import table_systems, validated_system
from tests.reference import naive

BASE = {"N_E": 400, "N_I": 100, "Q": 4, "R_Eplus": 2.0}

_ANY_BAD = [None, True, "1.0", math.nan, math.inf, -math.inf, -1.0, 0.0, 0, -3, 10**400,
            np.float64(-2.0), np.bool_(True), [0.5]]
_NUMBERS = st.one_of(st.floats(-2.0, 12.0), st.integers(-2, 12), st.sampled_from(_ANY_BAD),
                     st.floats(-2.0, 12.0).map(np.float64), st.integers(1, 8).map(np.int64),
                     st.floats(0.0, 1.0).map(np.float32))
# valid-leaning values per field, mixed with every kind of bad value
CHANGES = {
    "N_E": st.one_of(st.sampled_from([400, 800, 400.0, 402, np.int64(400), 2.0**60]), _NUMBERS),
    "N_I": st.one_of(st.sampled_from([100, 200, 100.0, 101, np.int32(100)]), _NUMBERS),
    "Q": st.one_of(st.sampled_from([1, 2, 4, 4.0, 3, np.int64(4)]), _NUMBERS),
    "R_Eplus": st.one_of(st.floats(0.5, 4.5), _NUMBERS),
    "R_j": st.one_of(st.floats(-1.0, 2.0), _NUMBERS),
    "kappa": st.one_of(st.floats(0.0, 1.0), st.integers(0, 1), _NUMBERS),
    "V_th": _NUMBERS, "g": _NUMBERS, "m_X": _NUMBERS, "tau_e": _NUMBERS,
    "tau_i": st.one_of(st.none(), _NUMBERS),
    "p0_ee": _NUMBERS, "p0_ii": _NUMBERS,
    "connection_type": st.sampled_from(["poisson", "bernoulli", "fixed_indegree", "gauss", 3]),
    "initial_mode": st.sampled_from(["bernoulli", "exact", "other"]),
    "initial_activity": st.one_of(st.floats(-0.5, 1.5), _NUMBERS,
                                  st.sampled_from([[0.1, 0.2], {"E": 0.1, "I": 0.2},
                                                   {"E": 0.1}, [0.1, 0.2, 0.3]])),
    "R_Eplsu": st.just(2.0),
}
PARAMETER_SET = st.dictionaries(st.sampled_from(sorted(CHANGES)), st.none(), max_size=3).flatmap(
    lambda keys: st.fixed_dictionaries({k: CHANGES[k] for k in keys})).map(
    lambda change: {**BASE, **change})


def _reference(sets):
    """What validating the sets one by one gives: the dicts, or the first error."""
    try:
        return [validate_parameters(p) for p in sets]
    except Exception as error:  # noqa: BLE001  (any error must be the same)
        return error


def _assert_same_as_reference(sets):
    expected = _reference(sets)
    if isinstance(expected, Exception):
        with pytest.raises(type(expected)) as raised:
            validate_parameter_table(sets)
        assert str(raised.value) == str(expected)
        return
    table = validate_parameter_table(sets)
    assert len(table) == len(sets)
    for s, p in enumerate(expected):
        row = table.row(s)
        assert row == p
        assert [type(v) for v in row.values()] == [type(v) for v in p.values()]


@settings(max_examples=400, deadline=None)
@given(st.lists(PARAMETER_SET, min_size=0, max_size=5))
def test_table_validation_equals_validate_parameters(sets):
    _assert_same_as_reference(sets)


@pytest.mark.parametrize("change", [
    {"R_Eplus": 4.0}, {"R_Eplus": 0.0}, {"R_Eplus": 3.9, "R_j": 1.5}, {"N_E": 402},
    {"N_I": 101}, {"p0_ee": -0.1}, {"p0_ie": 0.0}, {"tau_e": 0.0}, {"tau_i": -1.0},
    {"R_Eplsu": 2.0}, {"connection_type": "gaussian"}, {"initial_activity": 1.5},
    {"Q": 0}, {"V_th": 0.0}, {"g": math.nan}, {"kappa": math.inf}, {"m_X": -0.1},
    {"N_E": 400.5}, {"Q": 2.5}, {"initial_mode": "none"}, {"initial_activity": [0.1, 2.0]},
])
def test_first_bad_set_raises_its_error(change):
    good = {**BASE, "R_Eplus": 1.5, "kappa": 0.5}
    bad = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    other_bad = {**BASE, "R_Eplus": -1.0}
    _assert_same_as_reference([good, bad, other_bad])
    _assert_same_as_reference([good] * 3 + [bad])
    with pytest.raises(ValueError):
        validate_parameter_table([good, bad])


def test_valid_sets_with_other_value_types_equal_the_reference():
    sets = [{**BASE, "initial_activity": [0.1, 0.2]}, {**BASE, "N_E": 800.0, "kappa": 1},
            {**BASE, "tau_i": 3, "Q": np.int64(4), "R_Eplus": np.float32(1.5)},
            {**BASE, "Q": 1, "R_Eplus": 0.5}]
    _assert_same_as_reference(sets)


VALID_SET = st.fixed_dictionaries({
    "Q": st.sampled_from([1, 2, 4, 5]), "R_Eplus": st.floats(0.2, 1.0),
    "R_j": st.floats(0.0, 1.0), "kappa": st.floats(-0.5, 1.5), "V_th": st.floats(0.5, 2.0),
    "g": st.floats(0.0, 2.0), "m_X": st.floats(0.0, 0.1), "p0_ee": st.floats(0.05, 1.0),
    "p0_ei": st.floats(0.05, 1.0), "p0_ie": st.floats(0.05, 1.0), "p0_ii": st.floats(0.05, 1.0),
    "connection_type": st.sampled_from(["poisson", "bernoulli", "fixed_indegree"]),
}).map(lambda p: {**p, "N_E": 400, "N_I": 100, "R_Eplus": 1.0 + p["R_Eplus"] * (p["Q"] - 1)
                  if p["Q"] > 1 else p["R_Eplus"]}).filter(lambda p: _is_valid(p))


def _is_valid(p):
    try:
        validate_parameters(p)
    except ValueError:
        return False
    return True


@settings(max_examples=100, deadline=None)
@given(st.lists(VALID_SET, min_size=1, max_size=4))
def test_connection_parameters_follow_the_formulas_written_out(sets):
    # one set and every row of a table against the slow, entry-by-entry reference; the two
    # paths of the one implementation (numbers, arrays) agree to the last bit
    table = validate_parameter_table(sets)
    together = connection_table(table)
    coef, theta, tau, q = table_systems(table)
    for s, p in enumerate(sets):
        valid = validate_parameters(p)
        one = connection_parameters(valid)
        reference = naive.connection_parameters(valid)
        for field in dataclasses.fields(one):
            value = getattr(one, field.name)
            np.testing.assert_allclose(value, reference[field.name], rtol=1e-13, atol=0,
                                       err_msg=field.name)
            assert np.shape(value) == np.shape(reference[field.name])
            assert np.array_equal(getattr(together, field.name)[s], value)
        system = validated_system(valid)
        assert system.Q == q[s]
        for name, values in (("coef", coef), ("theta", theta), ("tau", tau)):
            assert np.array_equal(getattr(system, name), values[s])
