"""Synapse generators: each describes the random contacts of one (post, pre) block.

A synapse object only describes its block: :meth:`Synapse.generator` returns a typed spec
(:class:`PairSpec` or :class:`IndegreeSpec`) from which :mod:`binnet_core.connectivity`
generates the contacts in compiled code. All contacts of one synapse object share its
weight ``j``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from binnet_core.validation import check_finite, check_non_negative

__all__ = ["PairwiseBernoulliSynapse", "PoissonSynapse", "FixedIndegreeSynapse", "AllToAllSynapse",
           "PairSpec", "IndegreeSpec"]

_TWO64 = 2**64


@lru_cache(maxsize=256)
def _binomial_thresholds(n: int, q: float) -> np.ndarray:
    from scipy import stats  # imported when first needed: scipy.stats takes seconds to import

    return _cdf_thresholds(stats.binom.cdf(np.arange(n), n, q))


@lru_cache(maxsize=256)
def _poisson_thresholds(rate: float) -> np.ndarray:
    from scipy import stats

    top = int(rate + 12.0 * math.sqrt(rate) + 40)
    return _cdf_thresholds(stats.poisson.cdf(np.arange(top), rate))


def _cdf_thresholds(cdf: np.ndarray) -> np.ndarray:
    """uint64 thresholds ``floor(cdf * 2**64)`` for ``P(count <= k)``, k = 0, 1, ...

    The table stops where the cdf reaches 1 in double precision, which bounds the largest
    count that can be drawn.
    """
    cdf = np.asarray(cdf, dtype=np.float64)
    below_one = cdf < 1.0
    if not below_one.all():
        cdf = cdf[: int(np.argmin(below_one))]
    return np.array([min(int(c * _TWO64), _TWO64 - 1) for c in cdf], dtype=np.uint64)


@dataclass(frozen=True, eq=False)
class PairSpec:
    """An independent contact count for every ordered (post, pre) pair.

    ``thresholds[k] = floor(P(count <= k) * 2**64)`` (uint64): a pair's count is the number
    of thresholds its random word reaches. Bernoulli, binomial, Poisson and all-to-all
    blocks are all of this form.
    """

    thresholds: np.ndarray


@dataclass(frozen=True)
class IndegreeSpec:
    """Every post neuron draws ``indegree`` pre partners, with replacement if ``multapses``."""

    indegree: int
    multapses: bool


class Synapse:
    """Base class: contacts from population ``pre`` onto population ``post`` with weight ``j``.

    ``reference`` (the network) is accepted for compatibility with the original API.
    """

    def __init__(self, reference, pre, post, j=1.0):
        self.pre = pre
        self.post = post
        self.j = check_finite("j", j)
        self.name = f"{post.name} <- {pre.name}"

    def generator(self) -> PairSpec | IndegreeSpec | None:
        """The spec the contacts are generated from; ``None`` for an empty block."""
        raise NotImplementedError

    @staticmethod
    def expected_count(mean, n_pre, n_post):
        """Expected contacts of a block with this rule's ``mean`` (``p`` or ``rate``) between
        ``n_pre`` and ``n_post`` neurons (before autapse removal); works on arrays."""
        return mean * n_pre * n_post

    def expected_contacts(self) -> float:
        """Expected number of contacts (before autapse removal), for memory estimates."""
        raise NotImplementedError

    @staticmethod
    def variance_coefficients(p, w, n):
        """Mean-field ``(B, C)`` of a block of this rule (``binnet_core.meanfield``).

        ``p`` contacts per pair on average, weight ``w``, ``n`` sources (arrays work). With
        ``K`` contacts per pair (mean ``p``, variance ``v``) and independent sources active
        with probability ``m``, ``Var(K s) = (v + p^2) m - p^2 m^2``, so
        ``B = (v + p^2) w^2 n`` and ``C = -p^2 w^2 n``.
        """
        raise NotImplementedError


class PairwiseBernoulliSynapse(Synapse):
    """Independent contacts for every (post, pre) pair; ``p`` contacts per pair on average.

    For ``p <= 1`` each pair is connected with probability ``p``. For ``p > 1`` each pair
    receives ``ceil(p)`` Bernoulli(``p / ceil(p)``) draws (a binomial count), so the expected
    number of contacts per pair is exactly ``p`` (the original engine under-connected here).

    Expected output
    ---------------
    After ``network.initialize(...)`` the block holds contact counts times ``j``.
    """

    def __init__(self, reference, pre, post, p=0.5, j=1.0):
        super().__init__(reference, pre, post, j)
        self.p = check_non_negative("p", p)

    def generator(self):
        if self.p == 0.0:
            return None
        n = max(1, math.ceil(self.p))
        return PairSpec(_binomial_thresholds(n, self.p / n))

    def expected_contacts(self):
        return float(self.expected_count(self.p, self.pre.N, self.post.N))

    @staticmethod
    def variance_coefficients(p, w, n):
        """``v = p (1 - p / ceil(p))``: ``B = (p + p^2 (1 - 1/ceil(p))) w^2 n`` (``p w^2 n``
        for ``p <= 1``), ``C = -p^2 w^2 n``."""
        passes = np.maximum(1.0, np.ceil(p))
        return (p + p**2 * (1.0 - 1.0 / passes)) * w**2 * n, -(p**2) * w**2 * n


class PoissonSynapse(Synapse):
    """Poisson-distributed contact count (mean ``rate``) for every (post, pre) pair."""

    def __init__(self, reference, pre, post, rate=0.5, j=1.0):
        super().__init__(reference, pre, post, j)
        self.rate = check_non_negative("rate", rate)

    def generator(self):
        if self.rate == 0.0:
            return None
        return PairSpec(_poisson_thresholds(self.rate))

    def expected_contacts(self):
        return float(self.expected_count(self.rate, self.pre.N, self.post.N))

    @staticmethod
    def variance_coefficients(p, w, n):
        """``v = p``: ``B = (p + p^2) w^2 n``, ``C = -p^2 w^2 n``."""
        return (p + p**2) * w**2 * n, -(p**2) * w**2 * n


class FixedIndegreeSynapse(Synapse):
    """Every post neuron draws exactly ``round(p * N_pre)`` pre partners.

    With ``multapses=True`` partners are drawn with replacement, otherwise without. When
    autapses are removed a neuron never draws itself, so the in-degree stays exact.
    """

    def __init__(self, reference, pre, post, p=0.5, j=1.0, multapses=True):
        super().__init__(reference, pre, post, j)
        self.p = check_non_negative("p", p)
        self.multapses = bool(multapses)

    @property
    def indegree(self) -> int:
        return int(round(self.p * self.pre.N))

    @staticmethod
    def expected_count(mean, n_pre, n_post):
        return np.round(mean * n_pre) * n_post  # round half to even, as ``indegree``

    def generator(self):
        if self.indegree == 0:
            return None
        return IndegreeSpec(self.indegree, self.multapses)

    def check(self, skip_self: bool) -> None:
        """Raise if the in-degree cannot be drawn without replacement."""
        available = self.pre.N - (1 if skip_self else 0)
        if not self.multapses and self.indegree > available:
            raise ValueError(
                f"FixedIndegreeSynapse {self.name!r}: in-degree {self.indegree} without multapses "
                f"needs p <= {available / self.pre.N:.6g} (only {available} pre neurons available)"
            )

    def expected_contacts(self):
        return float(self.expected_count(self.p, self.pre.N, self.post.N))

    @staticmethod
    def variance_coefficients(p, w, n):
        """Exactly ``p n`` sources drawn: ``B = -C = p n (1 - 1/n) w^2``."""
        b = p * n * (1.0 - 1.0 / n) * w**2
        return b, -b


class AllToAllSynapse(Synapse):
    """One contact for every (post, pre) pair."""

    def generator(self):
        return PairSpec(np.zeros(1, dtype=np.uint64))

    def expected_contacts(self):
        return float(self.expected_count(1.0, self.pre.N, self.post.N))
