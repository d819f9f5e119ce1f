"""The engine reproduces runs recorded before the kernels were restructured.

SHA-256 digests of the final state, field, diff log and up-transition counts of a small
network with threshold, clamped and stochastic populations, one per connectivity layout,
were recorded with the engine of commit c67ab7d (one kernel that learned the layout from
which arrays were empty and neuron kinds from NaN/-1/inf sentinels). Any change to the
update rule, the random streams, the connectivity generation or a flip routine changes them.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from binnet_core import (
    BackgroundActivity,
    BinaryNetwork,
    BinaryNeuronPopulation,
    FixedIndegreeSynapse,
    PairwiseBernoulliSynapse,
    PoissonSynapse,
)


def network(layout, dtype):
    """Threshold E/I units, clamped and stochastic background; ``layout`` picks the storage."""
    net = BinaryNetwork("recorded")
    e = net.add_population(BinaryNeuronPopulation(net, N=70, threshold=0.3, tau=10.0,
                                                  initializer=0.3))
    i = net.add_population(BinaryNeuronPopulation(net, N=31, threshold=0.1, tau=5.0,
                                                  initializer=0.5))
    clamp = net.add_population(BackgroundActivity(net, N=20, Activity=0.4))
    noise = net.add_population(BackgroundActivity(net, N=9, Activity=0.3, Stochastic=True))
    crowded = layout == "dense 8-bit"  # more than 15 contacts on a pair: 8-bit counts
    net.add_synapse(PoissonSynapse(net, e, e, rate=16.0 if crowded else 0.3, j=0.05))
    net.add_synapse(PairwiseBernoulliSynapse(net, e, i, p=0.4, j=0.07))
    net.add_synapse(PairwiseBernoulliSynapse(net, i, e, p=0.5, j=-0.11))
    net.add_synapse(FixedIndegreeSynapse(net, i, i, p=0.3, j=-0.09))
    net.add_synapse(FixedIndegreeSynapse(net, clamp, e, p=0.5, j=0.02))
    net.add_synapse(PairwiseBernoulliSynapse(net, noise, i, p=0.6, j=0.04))
    if layout.endswith("float"):  # two weights on one block: per-contact float weights
        net.add_synapse(FixedIndegreeSynapse(net, clamp, e, p=0.2, j=0.03, multapses=False))
    mode = "dense" if layout.startswith("dense") else "sparse"
    net.initialize(weight_mode=mode, weight_dtype=dtype, seed=11)
    return net


def digest(net, steps=20_000):
    net.enable_diff_logging(steps)
    net.run(steps)
    ids, deltas = net.consume_diff_log()
    parts = (net.state, net.field, ids, deltas, net.up_transitions)
    return hashlib.sha256(b"".join(np.ascontiguousarray(p).tobytes() for p in parts)).hexdigest()


LAYOUTS = ("dense 4-bit", "dense 8-bit", "dense float", "sparse", "sparse float")
RECORDED = {  # with commit c67ab7d
    ("dense 4-bit", "float32"): "23f9f131cf83522a8d8e2ccd01fcbdb15b6daf1fca574643b3a28362cf56631f",
    ("dense 4-bit", "float64"): "dd2a3c6c77846349e3c6d56265b4880b0d3999c6d7f3b09b77cb6ba5b6fb24c7",
    ("dense 8-bit", "float32"): "b43f0f4784d001ca1161c333fba7bbbb4eb91627b320efaeea0f7eaa3852e676",
    ("dense 8-bit", "float64"): "fa63e654b6d2be24ae538d13c8557fefc1c9e691fabf1ee1a8f866116c8f43c6",
    ("dense float", "float32"): "c8500755b45ff138af0fb3198083ddf07899f396379e956e96a7a3887079d808",
    ("dense float", "float64"): "06df4b4f33d20f3b7034b59bce146e9837c99039585ab6d3d35533e205f38208",
    ("sparse", "float32"): "13fc812ed64bf417e08c368113b03429aacd959db2df2c774d01d5e6c3c49f9b",
    ("sparse", "float64"): "e0c04cd6518cec961f41992028c44fded0672c27587935b43f3c35266177ca34",
    ("sparse float", "float32"): "594ba9bd3c3533cf871218532f2013e142278e59f9654ae3a7aa088e4bf64aaf",
    ("sparse float", "float64"): "a081df0d7406507ef20c2aa5ac0758cd35fad6ba481a96b4a133510a62f6f66f",
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_runs_match_the_recorded_pre_refactor_runs(layout, dtype):
    net = network(layout, dtype)
    assert net.connectivity.layout == ("dense" if layout.startswith("dense") else "sparse")
    assert digest(net) == RECORDED[(layout, dtype)]
