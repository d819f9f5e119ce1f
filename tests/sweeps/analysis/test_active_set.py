"""Active-set EM state inference (the default of ``infer_states``) and the paper's dwell summary,
against planted states and against the naive re-implementation in tests/reference."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sweeps.analysis import active_set
from sweeps.analysis.states import ActiveSetEM, Pelt, dwell_summary, infer_states
from sweeps.errors import OptionError
from tests.reference import active_set_naive as naive

ON, OFF = 0.5, 0.05


def planted(plan, n_pop, noise, rng):
    """Trace of (active set, samples) blocks; returns the trace and the true mask per sample."""
    truth = np.concatenate([np.tile(np.isin(np.arange(n_pop), list(act)), (n, 1)) for act, n in plan])
    return np.where(truth, ON, OFF) + noise * rng.standard_normal(truth.shape), truth


def per_sample(seg, n):
    out = np.zeros((n, seg.active.shape[1]), bool)
    for a, b, row in zip(seg.start, seg.end, seg.active, strict=True):
        out[a:b] = row
    return out


def as_naive(seg):
    return [(int(a), int(b), [bool(v) for v in row])
            for a, b, row in zip(seg.start, seg.end, seg.active, strict=True)]


# brief states included (2 and 3 samples): the default sees every sample on its own
PLAN = [((), 50), ((0,), 80), ((0, 2), 40), ((1,), 3), ((3,), 100), ((), 2), ((2,), 60), ((), 30)]

# Noise: the EM's starts and its admissibility rule compare differences of the run-scaled
# activity (unit: q95 - q05, here the step 0.45) with min_separation = 0.05, i.e. 0.0225 in
# activity. With noise sd 0.005 a gap of 0.0225 between two inactive populations is 4.5 sd of a
# spacing of normal samples: expected count over all samples below 0.05 (P(top spacing of 20
# normals > 4.5 sd) ~ exp(-4.5 sqrt(2 ln 20)) ~ 2e-5 per sample). So the states are recovered
# exactly. (At sd 0.01 and above the paper's method splits states: docs/STATISTICS.md.)
NOISE = 0.005


def test_recovers_planted_states_and_their_dwell_times():
    trace, _ = planted(PLAN, 4, NOISE, np.random.default_rng(0))
    seg = infer_states(trace)
    assert seg.labels() == ["none", "0", "0+2", "1", "3", "none", "2", "none"]
    np.testing.assert_array_equal(seg.start, np.cumsum([0] + [n for _, n in PLAN[:-1]]))
    summary = dwell_summary(seg, 10.0)
    inner = [n * 10.0 for _, n in PLAN[1:-1]]  # first and last segment left out
    assert summary.n_episodes == len(PLAN) and summary.n_state_changes == len(PLAN) - 1
    assert summary.n_states == 6 and summary.n_dwells == len(inner)
    assert summary.mean_ms == pytest.approx(np.mean(inner))
    assert summary.std_ms == pytest.approx(np.std(inner, ddof=1))
    assert summary.median_ms == pytest.approx(np.median(inner))
    # PELT finds the same segments on this clean trace
    assert as_naive(infer_states(trace, Pelt())) == as_naive(seg)


def test_recovers_many_random_states_of_twenty_populations():
    rng = np.random.default_rng(1)
    plan = [(tuple(rng.choice(20, size=rng.integers(0, 3), replace=False)),
             int(rng.integers(1, 60)))
            for _ in range(60)]
    trace, truth = planted(plan, 20, NOISE, rng)
    seg = infer_states(trace)
    np.testing.assert_array_equal(per_sample(seg, len(trace)), truth)
    bounds = np.r_[0, np.cumsum([n for _, n in plan])]
    changes = np.r_[True, [set(a) != set(b) for (a, _), (b, _) in zip(plan[:-1], plan[1:], strict=True)]]
    np.testing.assert_array_equal(seg.start, bounds[:-1][changes])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_pop=st.integers(1, 6), n_blocks=st.integers(1, 8),
       noise=st.sampled_from([0.02, 0.1, 0.3]), max_active=st.sampled_from([None, 1, 2]),
       width=st.sampled_from([1, 1, 3]), canonical=st.booleans())
# one population: k = 0 and k = 1 have equal parameters at first, so equal costs (k = 0 wins)
@example(seed=307, n_pop=1, n_blocks=3, noise=0.3, max_active=None, width=1, canonical=False)
@example(seed=4, n_pop=1, n_blocks=2, noise=0.02, max_active=None, width=3, canonical=False)
def test_agrees_with_the_naive_reference(seed, n_pop, n_blocks, noise, max_active, width, canonical):
    rng = np.random.default_rng(seed)
    plan = [(tuple(rng.choice(n_pop, size=rng.integers(0, n_pop + 1), replace=False)),
             int(rng.integers(1, 25))) for _ in range(n_blocks)]
    trace, _ = planted(plan, n_pop, noise, rng)
    opts = ActiveSetEM(max_active=max_active, segment_width=width, canonical=canonical)
    expected = naive.infer(trace.tolist(), max_active=max_active, width=width, canonical=canonical)
    got = infer_states(trace, opts)
    assert as_naive(got) == expected
    n_ep, n_dw, mean, sd, med = naive.dwell_summary(expected, 10.0)
    s = dwell_summary(got, 10.0)
    assert (s.n_episodes, s.n_dwells) == (n_ep, n_dw)
    np.testing.assert_allclose([s.mean_ms, s.std_ms, s.median_ms], [mean, sd, med], rtol=1e-12)


def simulation_like(rng, n_samples=150, n_pop=20, size=400):
    """Fractions k/size of Q = 20 populations of 400 neurons (activities as the engine stores
    them): baseline about 0.02, one or two populations at about 0.45, switching now and then."""
    level = np.full(n_pop, 0.02)
    rows = []
    for _ in range(n_samples):
        if rng.random() < 0.06:
            level = np.full(n_pop, 0.02)
            level[rng.choice(n_pop, size=rng.integers(0, 3), replace=False)] = 0.45
        rows.append(rng.binomial(size, level) / size)
    return np.array(rows)


def test_agrees_with_the_naive_reference_on_simulation_like_arrays():
    # seed 3: equal activities decide some sets (the stable sort gives other segments than
    # np.argpartition here)
    trace = simulation_like(np.random.default_rng(3))
    expected = naive.infer(trace.tolist())
    got = infer_states(trace)
    assert as_naive(got) == expected
    assert len(got) > 5  # switches happened
    x, lengths, _ = active_set.segment_means(active_set.run_scale(trace)[0], 1)
    fit = active_set.fit_active_sets(x, lengths, ActiveSetEM())
    assert fit.converged and fit.n_iter < 30


def test_flat_and_single_sample_traces():
    for trace in (np.full((50, 3), 0.1), np.full((1, 3), 0.2)):
        seg = infer_states(trace)
        assert seg.labels() == ["none"] and list(seg.end) == [len(trace)]
        assert as_naive(seg) == naive.infer(trace.tolist())
    s = dwell_summary(infer_states(np.full((50, 3), 0.1)), 10.0)
    assert (s.n_dwells, s.mean_ms, s.std_ms) == (1, 500.0, 0.0)  # one segment: kept, as the paper


def test_deterministic_and_independent_of_the_row_blocks(monkeypatch):
    trace = simulation_like(np.random.default_rng(3), n_samples=300)
    first = infer_states(trace)
    monkeypatch.setattr(active_set, "_ROWS_PER_BLOCK", 7)
    second = infer_states(trace)
    assert as_naive(first) == as_naive(second)


def test_clear_errors():
    with pytest.raises(OptionError, match=r"method: .*allowed: active_set_em, pelt") as err:
        infer_states(np.zeros((5, 2)), "hmm")
    assert err.value.field == "method" and err.value.allowed == ("active_set_em", "pelt")
    with pytest.raises(OptionError, match=r"ActiveSetEM.max_active: must be None or an integer >= 1"):
        ActiveSetEM(max_active=0)
    with pytest.raises(OptionError, match=r"ActiveSetEM.segment_width"):
        ActiveSetEM(segment_width=1.5)
    with pytest.raises(OptionError, match=r"ActiveSetEM.canonical_similarity: must be a number in \[0, 1\]"):
        ActiveSetEM(canonical_similarity=2)
    with pytest.raises(OptionError, match=r"ActiveSetEM.var_floor"):
        ActiveSetEM(var_floor=0)
    with pytest.raises(OptionError, match=r"trace: must have shape \(T, C\)"):
        infer_states(np.zeros(5))
    with pytest.raises(OptionError, match="trace: must be finite"):
        infer_states(np.full((5, 2), np.nan))


def test_segment_means_are_the_row_means_bit_for_bit():
    """As the reference's per-segment np.nanmean (rounding decides ties of the M-step)."""
    z = np.random.default_rng(5).standard_normal((101, 7))
    for width in (1, 3, 10):
        x, lengths, bounds = active_set.segment_means(z, width)
        expected = np.array([np.nanmean(z[a:b], axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
        assert np.array_equal(x, expected) and np.array_equal(lengths, np.diff(bounds))
        assert bounds[0] == 0 and bounds[-1] == len(z) and np.all(np.diff(bounds)[:-1] == width)
