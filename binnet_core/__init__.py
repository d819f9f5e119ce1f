"""binnet_core: a fast, reproducible numba engine for binary (Glauber-type) neural networks.

The public API keeps the original ``BinaryNetwork.py`` names and behaviour (populations,
synapse generators, ``BinaryNetwork``, diff logs, ``warm_numba_caches``) and adds seeding,
explicit weight matrices, exact update sequences, model-time helpers and recorders.
"""

from binnet_core import _kernel_cache  # noqa: F401  (first: before any kernel is decorated)
from binnet_core.clustered import ClusteredEINetwork
from binnet_core.network import BinaryNetwork
from binnet_core.populations import BackgroundActivity, BinaryNeuronPopulation
from binnet_core.recorders import MeanStateRecorder, NeuronRecorder, PopulationActivityRecorder
from binnet_core.synapses import (
    AllToAllSynapse,
    FixedIndegreeSynapse,
    PairwiseBernoulliSynapse,
    PoissonSynapse,
)
from binnet_core.warmup import warm_numba_caches

__all__ = [
    "BinaryNeuronPopulation",
    "BackgroundActivity",
    "PairwiseBernoulliSynapse",
    "PoissonSynapse",
    "FixedIndegreeSynapse",
    "AllToAllSynapse",
    "BinaryNetwork",
    "ClusteredEINetwork",
    "MeanStateRecorder",
    "NeuronRecorder",
    "PopulationActivityRecorder",
    "warm_numba_caches",
]
