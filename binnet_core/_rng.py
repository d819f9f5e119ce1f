"""Random numbers inside numba kernels: splitmix64, sequential and counter-based.

The simulation kernels draw from a sequential splitmix64 stream (one ``uint64`` of state,
kept by the network so consecutive ``run`` calls continue one stream). Connectivity uses
the same mixer as a counter-based generator: the random word of pair ``(pre, post)`` of a
block is ``mix64(key + counter * GAMMA)``, so the network does not depend on the memory
layout or on the order in which blocks are generated.
"""

from __future__ import annotations

import numpy as np
from numba import njit

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(inline="always")
def mix64(z):
    """Stafford's variant-13 finaliser used by splitmix64 (a bijection on uint64)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always")
def next_u64(rng_state):
    """Advance the splitmix64 state held in ``rng_state[0]`` and return a random uint64."""
    s = rng_state[0] + GAMMA
    rng_state[0] = s
    return mix64(s)


@njit(inline="always")
def counter_u64(key, counter):
    """Random uint64 number ``counter`` of the stream named by ``key``."""
    return mix64(key + np.uint64(counter) * GAMMA)


@njit(inline="always")
def to_unit(x):
    """Map a uint64 to a double in [0, 1) (53 random bits)."""
    return np.float64(x >> _S11) * _INV53


@njit(inline="always")
def bounded(x, n):
    """Map a uint64 to an integer in [0, n) for n < 2**32 (Lemire's multiply-shift).

    Uses the top 32 bits; the bias is below n / 2**32.
    """
    return np.int64(((x >> _S32) * np.uint64(n)) >> _S32)


@njit(inline="always")
def low32(x):
    """The low 32 bits of ``x`` as uint64."""
    return x & _LOW32


def seed_words(seed_sequence: np.random.SeedSequence, n: int = 1) -> np.ndarray:
    """Derive ``n`` uint64 words from a SeedSequence (for kernel keys and states)."""
    return seed_sequence.generate_state(n, np.uint64)
