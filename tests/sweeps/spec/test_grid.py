"""Grid expansion properties (hypothesis): sizes, order, zips, seeds, index round trip."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sweeps.spec.definition import Dimension, parse_experiment
from sweeps.spec.grid import Grid
from sweeps.spec.seeds import point_seeds

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
        assert grid.network(index) == grid.coords(index)[-1] and grid.init(index) == 0


def _state(seed_sequence) -> bytes:
    return seed_sequence.generate_state(4).tobytes()


@given(grids())
@settings(max_examples=30, deadline=None)
def test_seeds_follow_roles_common_random_numbers_across_parameters(grid):
    conn = {i: _state(grid.seeds(i).connectivity) for i in grid}
    start = {i: _state(grid.seeds(i).start) for i in grid}
    for i in grid:
        for k in grid:
            same_network = grid.network(i) == grid.network(k)
            assert (conn[i] == conn[k]) == same_network  # same network index: same wiring stream
            assert (start[i] == start[k]) == same_network  # no init dim: one start per network
    assert conn[0] != start[0]


def test_seed_matches_spawn_key_contract():
    grid = Grid((Dimension("network", {}, 3, "network"), Dimension("init", {}, 2, "init")), {}, 1234)
    seeds = grid.seeds(grid.index((2, 1)))
    expected = np.random.SeedSequence(1234, spawn_key=(0x4E4554, 2)).generate_state(2)
    np.testing.assert_array_equal(seeds.connectivity.generate_state(2), expected)
    expected = np.random.SeedSequence(1234, spawn_key=(0x494E4954, 2, 1)).generate_state(2)
    np.testing.assert_array_equal(seeds.start.generate_state(2), expected)


values_lists = st.lists(st.integers(-20, 20), min_size=0, max_size=4, unique=True)


@st.composite
def grown_grids(draw):
    """One point (axis values, network, init) and two grids of any shape and order holding it."""
    n_axes = draw(st.integers(0, 3))
    point = {f"a{k}": draw(st.integers(-20, 20)) for k in range(n_axes)}
    network, init = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    root = draw(st.integers(0, 2**32))

    def grid():
        dims = []
        for name, value in point.items():
            values = [v for v in draw(values_lists) if v != value]
            values.insert(draw(st.integers(0, len(values))), value)  # anywhere in the axis
            dims.append(Dimension(name, {name: tuple(float(v) for v in values)}, len(values), "axis"))
        dims = draw(st.permutations(dims))  # any axis order
        replicas = [Dimension("network", {}, network + 1 + draw(st.integers(0, 2)), "network"),
                    Dimension("init", {}, init + 1 + draw(st.integers(0, 2)), "init")]
        if network == 0 and draw(st.booleans()):
            replicas = replicas[1:]  # no network dimension at all
        if init == 0 and draw(st.booleans()):
            replicas = replicas[:-1]
        return Grid(tuple(dims) + tuple(replicas), {}, root)

    return point, network, init, grid(), grid()


def _find(grid, point, network, init) -> int:
    matches = [i for i in grid if grid.parameters(i) == {k: float(v) for k, v in point.items()}
               and grid.network(i) == network and grid.init(i) == init]
    assert len(matches) == 1
    return matches[0]


@given(grown_grids())
@settings(max_examples=80, deadline=None)
def test_a_points_seeds_do_not_depend_on_grid_shape_or_order(case):
    point, network, init, first, second = case
    a, b = (g.seeds(_find(g, point, network, init)) for g in (first, second))
    assert (a.network, a.init) == (b.network, b.init) == (network, init)
    assert _state(a.connectivity) == _state(b.connectivity)
    assert _state(a.start) == _state(b.start)
    assert _state(a.start) == _state(point_seeds(first.root_seed, network, init).start)


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
model = "tests.reference.toymodel:build"
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
