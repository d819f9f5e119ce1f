"""Small pure functions of the Gaussian mean-field theory (as in NNMT's ``binary.py``).

For populations ``k, l`` with mean coefficients ``A_kl = p_kl w_kl N_l``, variance
coefficients ``B_kl``, ``C_kl`` and effective thresholds ``theta_k`` (external drive
included)::

    mu_k      = sum_l A_kl m_l - theta_k                          (mean_input)
    sigma_k^2 = sum_l (B_kl m_l + C_kl m_l^2)                      (input_variance)
    m_k       = 1/2 erfc(-mu_k / (sqrt(2) sigma_k))               (rate)
    tau_k dm_k/dt = -m_k + Phi_k(m)                               (jacobian)

``B`` and ``C`` follow from the contact-count distribution of the connection type
(:func:`variance_coefficients`). :func:`full_system`, :func:`transfer` and :func:`jacobian`
take a :class:`~binnet_core.meanfield.systems.ClusterSystem` (the 2Q populations of the
clustered model).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from binnet_core.clustered import CONNECTION_TYPES, SYNAPSE_CLASSES

__all__ = ["mean_input", "input_variance", "rate", "variance_coefficients", "full_system",
           "transfer", "jacobian"]


def mean_input(A, m, theta) -> np.ndarray:
    """Mean input ``mu = A @ m - theta``."""
    return np.asarray(A) @ m - theta


def input_variance(B, C, m) -> np.ndarray:
    """Input variance ``B @ m + C @ m**2`` (floored at 1e-100, as in the kernels)."""
    return np.maximum(np.asarray(B) @ m + np.asarray(C) @ (np.asarray(m) ** 2), 1e-100)


def rate(mu, var) -> np.ndarray:
    """Gaussian transfer ``1/2 erfc(-mu / sqrt(2 var))``."""
    return 0.5 * special.erfc(-np.asarray(mu) / np.sqrt(2.0 * np.asarray(var)))


def variance_coefficients(p, w, n, connection_type: str):
    """``(B, C)`` of one block: ``p`` contacts per pair on average, weight ``w``, ``n`` sources.

    The formula belongs to the synapse class of ``connection_type``, next to the rule that
    draws the contacts (``variance_coefficients`` of ``PoissonSynapse``,
    ``PairwiseBernoulliSynapse``, ``FixedIndegreeSynapse``): adding a connection rule is one
    synapse class and one entry of ``binnet_core.clustered._SYNAPSE``.
    """
    if connection_type not in CONNECTION_TYPES:
        raise ValueError(f"connection_type must be one of {CONNECTION_TYPES}, got {connection_type!r}")
    synapse = SYNAPSE_CLASSES[connection_type]
    return synapse.variance_coefficients(np.asarray(p, float), np.asarray(w, float),
                                         np.asarray(n, float))


def full_system(system):
    """``(A, B, C, theta, tau)`` over the 2Q populations ``E0..E{Q-1}, I0..I{Q-1}`` of a
    :class:`~binnet_core.meanfield.systems.ClusterSystem`."""
    q = system.Q
    kind = np.repeat([0, 1], q)
    same = np.equal.outer(np.tile(np.arange(q), 2), np.tile(np.arange(q), 2))
    mats = [np.where(same, system.coef[k, 0][np.ix_(kind, kind)],
                     system.coef[k, 1][np.ix_(kind, kind)]) for k in range(3)]
    return (*mats, system.theta[kind], system.tau[kind])


def transfer(system, m) -> np.ndarray:
    """``Phi(m)`` of the full 2Q system."""
    A, B, C, theta, _ = full_system(system)
    return rate(mean_input(A, m, theta), input_variance(B, C, m))


def jacobian(system, m) -> np.ndarray:
    """Analytic Jacobian of ``dm/dt = (Phi(m) - m) / tau`` over the 2Q populations."""
    A, B, C, theta, tau = full_system(system)
    m = np.asarray(m, float)
    mu, var = mean_input(A, m, theta), input_variance(B, C, m)
    sigma = np.sqrt(var)
    pdf = np.exp(-0.5 * (mu / sigma) ** 2) / math.sqrt(2.0 * math.pi)
    dvar = B + 2.0 * C * m[None, :]
    dphi = pdf[:, None] * (A / sigma[:, None] - (mu / (2.0 * var * sigma))[:, None] * dvar)
    return (dphi - np.eye(m.size)) / tau[:, None]
