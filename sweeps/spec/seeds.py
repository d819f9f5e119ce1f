"""Seeds by role and by coordinates.

A grid point's randomness comes from the experiment's root seed and two replicate indices,
never from the point's position in the grid:

``connectivity``
    ``SeedSequence(root, spawn_key=(CONNECTIVITY, network))``: the seed the model builds its
    network with.  The same network index gives the same connectivity stream at every
    parameter value (common random numbers across the swept parameters, as in the reference
    study): differences between parameter values are not blurred by different draws.
``start``
    ``SeedSequence(root, spawn_key=(START, network, init))``: the built network is restarted
    with ``net.reset(state=..., seed=start)``; the engine draws the initial states from its
    child ``0`` and the update order from its child ``2``.  Child ``FOCUS`` draws which
    clusters are the focus ones (``initial = "meanfield"``), child ``RECORDING`` the neurons
    whose states and inputs are recorded, child ``POOL`` which fixed point of a pool of focus
    counts an init starts from (``[simulation] focus_counts``).

Adding axis values, networks or inits to a grid therefore leaves every existing point's seeds,
and data, unchanged; results do not depend on the grid's shape or order, nor on which worker
runs a point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CONNECTIVITY", "FOCUS", "POOL", "RECORDING", "START", "STATES", "PointSeeds", "point_seeds"]

#: First spawn-key word of each role (distinct, so no two roles share a stream).
CONNECTIVITY, START = 0x4E4554, 0x494E4954  # "NET", "INIT"
#: Children of the start seed: initial states (the engine's child 0, also for states the sweep
#: draws itself), focus clusters, recorded neurons and the fixed point drawn from a pool of focus
#: counts; the engine's update order is child 2.
STATES, FOCUS, RECORDING, POOL = 0, 3, 4, 5


@dataclass(frozen=True)
class PointSeeds:
    """The seeds of one grid point.

    Attributes
    ----------
    network, init : int
        The point's replicate indices.
    connectivity : SeedSequence
        Seed the model builds the network with.
    start : SeedSequence
        Seed of the initial state and update order (``net.reset(seed=start)``).
    """

    network: int
    init: int
    connectivity: np.random.SeedSequence
    start: np.random.SeedSequence

    def child(self, role: int) -> np.random.SeedSequence:
        """Child ``role`` of the start seed (``FOCUS``, ``RECORDING``)."""
        return np.random.SeedSequence(self.start.entropy, spawn_key=(*self.start.spawn_key, role))

    def rng(self, role: int) -> np.random.Generator:
        """A numpy Generator on :meth:`child` ``role``."""
        return np.random.default_rng(self.child(role))


def point_seeds(root_seed: int, network: int, init: int) -> PointSeeds:
    """The seeds of the point with replicate indices ``network`` and ``init``."""
    network, init = int(network), int(init)
    if network < 0 or init < 0:
        raise ValueError(f"network and init indices must be >= 0, got {network}, {init}")
    return PointSeeds(
        network, init,
        np.random.SeedSequence(root_seed, spawn_key=(CONNECTIVITY, network)),
        np.random.SeedSequence(root_seed, spawn_key=(START, network, init)),
    )
