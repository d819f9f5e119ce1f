"""Grid expansion properties (hypothesis): sizes, order, zips, seeds, index round trip."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sweeps.definition import Dimension, parse_experiment
from sweeps.grid import Grid, point_seed

names = st.text(alphabet="abcdefgh", min_size=1, max_size=4)


@st.composite
def grids(draw):
    """Random grids of plain axes, zips (2-3 parameters) and a seed dimension."""
    n_dims = draw(st.integers(0, 3))
    used: set[str] = set()
    dims = []
    for k in range(n_dims):
        size = draw(st.integers(1, 4))
        params = draw(st.lists(names.filter(lambda n: n not in used), min_size=1, max_size=3, unique=True))
        used.update(params)
        values = {p: tuple(float(v) for v in draw(st.lists(st.integers(-50, 50), min_size=size, max_size=size, unique=True)))
                  for p in params}
        kind = "axis" if len(params) == 1 else "zip"
        dims.append(Dimension(params[0] if kind == "axis" else f"zip{k}", values, size, kind))
    dims.append(Dimension("seed", {}, draw(st.integers(1, 3)), "seed"))
    return Grid(tuple(dims), {"fixed": 1.5}, draw(st.integers(0, 2**32)))


@given(grids())
@settings(max_examples=60, deadline=None)
def test_size_is_product_and_order_is_cartesian_c_order(grid):
    assert len(grid) == math.prod(d.size for d in grid.dimensions)
    expected = list(itertools.product(*(range(d.size) for d in grid.dimensions)))
    assert [grid.coords(i) for i in grid] == expected


@given(grids(), st.data())
@settings(max_examples=60, deadline=None)
def test_index_round_trip(grid, data):
    index = data.draw(st.integers(0, len(grid) - 1))
    assert grid.index(grid.coords(index)) == index


@given(grids())
@settings(max_examples=60, deadline=None)
def test_parameters_follow_coordinates_and_zips_move_together(grid):
    for index in grid:
        params = grid.parameters(index)
        assert params["fixed"] == 1.5
        for dim, i in zip(grid.dimensions, grid.coords(index), strict=True):
            for name, values in dim.values.items():
                assert params[name] == values[i]  # all members of a zip use the same position
        assert grid.replicate(index) == grid.coords(index)[-1]


@given(grids())
@settings(max_examples=30, deadline=None)
def test_seeds_are_deterministic_distinct_and_independent_of_order(grid):
    states = [grid.seed(i).generate_state(4).tobytes() for i in grid]
    assert len(set(states)) == len(grid)
    again = [Grid(grid.dimensions, grid.fixed, grid.root_seed).seed(i).generate_state(4).tobytes()
             for i in reversed(range(len(grid)))]
    assert again[::-1] == states
    assert states[0] == point_seed(grid.root_seed, 0).generate_state(4).tobytes()


def test_seed_matches_spawn_key_contract():
    grid = Grid((Dimension("seed", {}, 3, "seed"),), {}, 1234)
    expected = np.random.SeedSequence(1234, spawn_key=(2,)).generate_state(2)
    np.testing.assert_array_equal(grid.seed(2).generate_state(2), expected)


@given(
    st.lists(st.integers(-9, 9), min_size=1, max_size=4, unique=True),
    st.lists(st.integers(-9, 9), min_size=1, max_size=4, unique=True),
    st.integers(1, 3),
)
@settings(max_examples=30, deadline=None)
def test_definition_axes_expand_to_the_grid(a, b, replicates):
    text = f"""
[experiment]
name = "g"
model = "tests.toymodel:build"
seed = 3
[parameters]
N_E = 40
N_I = 10
[sweep]
R_Eplus = {[float(x) for x in a]}
replicates = {replicates}
[[sweep.zip]]
name = "pair"
u = {b}
v = {[x * 10 for x in b]}
[simulation]
steps = 100
sample_interval = 10
"""
    exp = parse_experiment(text)
    grid = Grid.from_experiment(exp)
    assert grid.shape == (len(a), len(b), replicates)
    last = grid.parameters(len(grid) - 1)
    assert (last["R_Eplus"], last["u"], last["v"]) == (float(a[-1]), b[-1], b[-1] * 10)
