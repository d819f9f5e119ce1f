"""Point seeds by coordinates: same (root, network, init) gives the same streams, other indices differ."""

from __future__ import annotations

import pytest

from sweeps.spec.seeds import FOCUS, RECORDING, point_seeds


def _state(seq):
    return tuple(seq.generate_state(4))


def test_same_coordinates_give_the_same_seeds_and_other_indices_differ():
    a, b = point_seeds(7, 2, 1), point_seeds(7, 2, 1)
    assert _state(a.connectivity) == _state(b.connectivity) and _state(a.start) == _state(b.start)
    assert a.rng(RECORDING).integers(1 << 30) == b.rng(RECORDING).integers(1 << 30)
    other_network, other_init = point_seeds(7, 3, 1), point_seeds(7, 2, 0)
    assert _state(other_network.connectivity) != _state(a.connectivity)
    assert _state(other_network.start) != _state(a.start)
    assert _state(other_init.connectivity) == _state(a.connectivity)  # one network, several inits
    assert _state(other_init.start) != _state(a.start)
    assert _state(point_seeds(8, 2, 1).start) != _state(a.start)  # the root seed matters
    assert _state(a.child(FOCUS)) != _state(a.child(RECORDING))


def test_negative_indices_are_refused():
    with pytest.raises(ValueError, match=">= 0"):
        point_seeds(7, -1, 0)
