"""The fast paths of ``block_correlations`` (bit-packed binary, float32 continuous) against
pair-by-pair NumPy references, with their stated error bounds."""
from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from sweeps.measure import _correlation_kernels as kernels
from sweeps.measure import statistics as st
from tests.reference.naive_measurements import naive_binary_r, naive_block_correlations
from tests.reference.paper_statistics import cluster_pair_stats

LIMIT = 1.0 - st.FISHER_EPS


def _data(seed, n_samples, k, n_groups, binary, constant=(), empty=True):
    rng = np.random.default_rng(seed)
    if binary:
        x = (rng.random((n_samples, k)) < rng.uniform(0.05, 0.6, k)).astype(np.int8)
    else:
        x = (rng.standard_normal((n_samples, k)) + rng.standard_normal((n_samples, 1))).astype(np.float32)
    for c in constant:
        x[:, c % k] = x[0, c % k] if not binary else c % 2
    # group 0 left empty when asked: groups 1..n_groups-1 only
    groups = rng.integers(1 if empty and n_groups > 1 else 0, n_groups, k)
    return x, groups


def _check(x, groups, n_groups, atol_per_pair):
    fast = st.block_correlations(x, groups, n_groups)
    z_sum, count = naive_block_correlations(x, groups, n_groups)
    np.testing.assert_array_equal(fast.count, count)
    np.testing.assert_allclose(fast.z_sum, z_sum, rtol=0, atol=atol_per_pair * max(count.max(), 1))
    _check_plain(fast, x, groups, n_groups, atol_per_pair)


def _check_plain(fast, x, groups, n_groups, atol):
    """Plain mean and median of r per block, each r within ``atol`` of the pair loop's."""
    mean, median = cluster_pair_stats(x, groups, n_groups)
    for name, got, want in (("mean", fast.r_mean, mean), ("median", fast.r_median, median)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
        np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=name)
        np.testing.assert_array_equal(got, got.T, err_msg=name)


def _check_float32(x, groups, n_groups):
    """The float32 path within its stated bound, carried to z pair by pair."""
    fast = st.block_correlations(x, groups, n_groups)
    z_sum, count = naive_block_correlations(x, groups, n_groups)
    np.testing.assert_array_equal(fast.count, count)
    gamma = _float32_bound(len(x))
    xs = np.asarray(x, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.nan_to_num(np.corrcoef(xs.T).reshape(xs.shape[1], xs.shape[1]))
    top = np.minimum(np.abs(r) + gamma, LIMIT)
    per_pair = gamma / (1 - top ** 2) + 1e-15
    bound = np.zeros((n_groups, n_groups))
    np.add.at(bound, (groups[:, None], groups[None, :]), per_pair)
    assert np.all(np.abs(fast.z_sum - z_sum) <= bound + 1e-12), np.max(np.abs(fast.z_sum - z_sum) - bound)
    _check_plain(fast, x, groups, n_groups, gamma + 1e-12)  # each r within gamma: so are mean and median


def _float32_bound(n_samples):
    """The stated bound on r of the float32 path: gamma_(T+2) with u = 2^-24."""
    return (n_samples + 2) * 2.0 ** -24 / (1 - (n_samples + 2) * 2.0 ** -24)


@settings(max_examples=40, deadline=None)
@given(seed=hst.integers(0, 2**32 - 1), n_samples=hst.integers(2, 150), k=hst.integers(1, 30),
       n_groups=hst.integers(1, 6), constant=hst.lists(hst.integers(0, 29), max_size=4))
def test_binary_path_matches_pair_loop(seed, n_samples, k, n_groups, constant):
    x, groups = _data(seed, n_samples, k, n_groups, True, constant)
    _check(x, groups, n_groups, 1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=hst.integers(0, 2**32 - 1), n_samples=hst.integers(3, 150), k=hst.integers(1, 30),
       n_groups=hst.integers(1, 6), constant=hst.lists(hst.integers(0, 29), max_size=4))
def test_float32_path_matches_pair_loop_within_bound(seed, n_samples, k, n_groups, constant):
    x, groups = _data(seed, n_samples, k, n_groups, False, constant)
    _check_float32(x, groups, n_groups)


@settings(max_examples=30, deadline=None)
@given(seed=hst.integers(0, 2**32 - 1), k=hst.integers(2, 30), n_groups=hst.integers(2, 6),
       slab_rows=hst.integers(1, 12))
def test_float32_path_in_slabs_of_groups(seed, k, n_groups, slab_rows):
    """Products taken for several slabs of consecutive groups fill every block once."""
    x, groups = _data(seed, 40, k, n_groups, False)
    with mock.patch.object(st, "SLAB_ROWS", slab_rows):
        _check_float32(x, groups, n_groups)


@pytest.mark.parametrize("binary", [True, False])
def test_one_neuron_per_group_and_empty_groups(binary):
    x, _ = _data(5, 64, 6, 10, binary)
    groups = np.array([1, 3, 4, 6, 8, 9])  # groups 0, 2, 5, 7 empty; one neuron each
    fast = st.block_correlations(x, groups, 10)
    assert (np.diag(fast.count) == 0).all() and (fast.z_sum[[0, 2, 5, 7]] == 0).all()
    _check(x, groups, 10, 1e-12) if binary else _check_float32(x, groups, 10)


@pytest.mark.parametrize("binary", [True, False])
def test_all_constant_and_no_neurons(binary):
    x = np.ones((20, 4), np.int8 if binary else np.float32)
    fast = st.block_correlations(x, np.array([0, 0, 1, 1]), 2)
    assert (fast.count == 0).all() and (fast.z_sum == 0).all()
    fast = st.block_correlations(np.zeros((20, 0), x.dtype), np.zeros(0, np.int64), 3)
    assert fast.z_sum.shape == (3, 3) and (fast.count == 0).all()


def test_binary_z_is_artanh_of_the_integer_formula_r():
    """One pair: the kernel's z is ``0.5 log((1 + r) / (1 - r))`` of the exact-count r (to a rounding),
    and that r is within the stated bound of float64 ``np.corrcoef``."""
    rng = np.random.default_rng(7)
    for n_samples in (7, 64, 65, 1000, 3001):
        for _ in range(20):
            x = (rng.random((n_samples, 2)) < rng.uniform(0.02, 0.9, 2)).astype(np.int8)
            if x[:, 0].min() == x[:, 0].max() or x[:, 1].min() == x[:, 1].max():
                continue
            r = naive_binary_r(x[:, 0], x[:, 1])
            z = st.block_correlations(x, np.array([0, 1]), 2).z_sum[0, 1]
            a = min(abs(r), LIMIT)
            want = math.copysign(0.5 * math.log((1 + a) / (1 - a)), r)
            assert abs(z - want) <= 2.0 ** -52 + 4 * np.spacing(abs(want))
            assert abs(r - np.corrcoef(x.T.astype(float))[0, 1]) <= (n_samples + 4) * 2.0 ** -53


def _kernel_z_sum(r):
    """The Fisher-z sum the float kernel forms for the pairs of one neuron with ``r.size``
    others whose r (float32) are given."""
    products = np.r_[1.0, r].astype(np.float32)[None, :]
    bounds = np.array([0, 1, r.size + 1], np.int64)
    z_row, r_row, ends = np.zeros(2), np.zeros(2), np.zeros(2, np.int64)
    kernels.dense_block_r(products, 0, bounds, 0, LIMIT, np.empty(r.size), z_row, r_row, ends)
    return z_row[1]


@pytest.mark.parametrize("n", [1, 31, 32, 33, 1000, 20001])
def test_z_sums_are_within_their_bound_of_arctanh(n):
    """Chunked products of ``1 + r`` and ``1 - r`` (one log per 32 pairs) against artanh in
    extended precision: within ``n 2^-52`` plus 4 ulp per chunk (its log and addition); values at and
    beyond the clip included (products of 32 factors of 1e-6 must not underflow)."""
    rng = np.random.default_rng(n)
    r = np.r_[rng.uniform(-1, 1, n // 2), rng.uniform(-0.05, 0.05, n - n // 2)]
    r[rng.random(n) < 0.1] = 1.0
    r[rng.random(n) < 0.1] = -1.0
    r = r.astype(np.float32).astype(np.float64)
    clipped = np.clip(r, -LIMIT, LIMIT).astype(np.longdouble)
    reference = np.sum(0.5 * np.log((1 + clipped) / (1 - clipped)))
    chunk = np.max(np.abs(np.arctanh(np.clip(r, -LIMIT, LIMIT))), initial=0.0) * kernels.Z_CHUNK
    bound = n * 2.0 ** -52 + (n // kernels.Z_CHUNK + 2) * 4 * np.spacing(max(abs(float(reference)), chunk))
    assert abs(_kernel_z_sum(r) - float(reference)) <= bound
    assert _kernel_z_sum(np.full(64, 1.0)) == pytest.approx(64 * np.arctanh(LIMIT), rel=1e-14)  # the clip


def test_pack_bits_round_trip():
    rng = np.random.default_rng(3)
    for n_samples in (1, 63, 64, 65, 130):
        x = rng.random((n_samples, 5)) < 0.5
        packed = st.pack_bits(x)
        assert packed.dtype == np.uint64 and packed.shape == (5, -(-n_samples // 64))
        bits = np.unpackbits(packed.view(np.uint8), axis=1)[:, :n_samples].T
        np.testing.assert_array_equal(bits, x)
        assert np.unpackbits(packed.view(np.uint8), axis=1)[:, n_samples:].sum() == 0


def test_inputs_are_validated():
    x = np.zeros((5, 3), np.int8)
    with pytest.raises(ValueError, match="groups must be in"):
        st.block_correlations(x, np.array([0, 1, 2]), 2)
    with pytest.raises(ValueError, match=r"groups must be integers"):
        st.block_correlations(x, np.array([0.0, 1.0, 1.0]), 2)
    with pytest.raises(ValueError, match=r"series must be \(T, K\)"):
        st.block_correlations(np.zeros(5), np.array([0]), 1)


def test_integer_series_beyond_binary_take_the_float_path():
    x = np.array([[0, 2], [1, 0], [2, 1], [0, 0]], np.int8)
    assert not st.is_binary(x) and st.is_binary(x.clip(0, 1)) and st.is_binary(x.astype(bool))
    _check_float32(x, np.array([0, 1]), 2)


@pytest.mark.parametrize("binary", [True, False])
def test_without_medians_the_other_summaries_are_the_same_to_the_bit(binary):
    """``medians=False`` (the episodes' path) only leaves ``r_median`` out: z sums, counts and
    plain means equal those of the full computation bit for bit."""
    x, groups = _data(7, 90, 60, 6, binary, constant=(3,))
    full = st.block_correlations(x, groups, 6)
    lean = st.block_correlations(x, groups, 6, medians=False)
    np.testing.assert_array_equal(lean.z_sum, full.z_sum)
    np.testing.assert_array_equal(lean.count, full.count)
    np.testing.assert_array_equal(lean.r_mean, full.r_mean)
    assert np.isfinite(full.r_median).any() and np.isnan(lean.r_median).all()


def _plain_unit_rows(x, groups):
    """Centre, divide by the norm, drop constant columns, sort rows by group: whole arrays."""
    x = np.asarray(x, np.float64)
    scale = max(1.0, x.max(initial=0.0), -x.min(initial=0.0))
    centred = x - x.mean(axis=0)
    norm = np.sqrt((centred * centred).sum(axis=0))
    valid = norm > 1e-12 * scale * np.sqrt(len(x))
    kept = np.flatnonzero(valid)
    kept = kept[np.argsort(groups[kept], kind="stable")]
    return (centred[:, kept] / norm[kept]).T.astype(np.float32), kept


@settings(max_examples=40, deadline=None)
@given(seed=hst.integers(0, 2**32 - 1), n_samples=hst.integers(2, 120), k=hst.integers(1, 30),
       n_groups=hst.integers(1, 6), constant=hst.lists(hst.integers(0, 29), max_size=6),
       chunk=hst.integers(1, 8))
def test_unit_rows_in_column_chunks_are_the_whole_array_computation_to_the_bit(
        seed, n_samples, k, n_groups, constant, chunk):
    """The float path standardises a few columns at a time (``COLUMN_CHUNK``): the same rows."""
    x, groups = _data(seed, n_samples, k, n_groups, False, constant)
    x *= np.float32(10.0 ** (seed % 5 - 2))  # scales from 1e-2 to 1e2
    rows, kept = _plain_unit_rows(x, groups)
    with mock.patch.object(st, "COLUMN_CHUNK", chunk):
        got_rows, got_kept = st.unit_rows(x, groups)
    np.testing.assert_array_equal(got_kept, kept)
    assert got_rows.dtype == np.float32
    np.testing.assert_array_equal(got_rows, rows)
