"""The paper's state-inference variants: PELT segments before the active-set EM
(``ActiveSetEM(segmentation="pelt")``) and the merging after it (``merge_after_em``), against
the naive re-implementation in tests/reference/active_set_variants_naive.py."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sweeps.analysis import active_set_pelt
from sweeps.analysis.states import ActiveSetEM, infer_states
from sweeps.errors import OptionError
from tests.reference import active_set_variants_naive as naive
from tests.sweeps.analysis.test_active_set import as_naive, planted

pytest.importorskip("ruptures")


def random_plan(rng, n_pop, n_blocks, longest=25):
    return [(tuple(rng.choice(n_pop, size=rng.integers(0, min(n_pop, 2) + 1), replace=False)),
             int(rng.integers(1, longest))) for _ in range(n_blocks)]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_pop=st.integers(1, 5), n_blocks=st.integers(1, 6),
       noise=st.sampled_from([0.02, 0.1]), penalty=st.sampled_from([0.5, 2.0, 10.0]),
       min_size=st.sampled_from([1, 2, 3]), jump=st.sampled_from([1, 2, 3]),
       refine=st.booleans(), smooth=st.sampled_from([1, 1, 3, 4]))
# a trace of one sample, shorter than min_size: one segment
@example(seed=10524, n_pop=2, n_blocks=1, noise=0.02, penalty=0.5, min_size=2, jump=1, refine=False,
         smooth=1)
def test_pelt_segments_are_the_optimal_partition(seed, n_pop, n_blocks, noise, penalty, min_size,
                                                 jump, refine, smooth):
    """PELT (pruned, in ruptures) against optimal partitioning without pruning (naive), and the
    refinement and features against their formulas."""
    rng = np.random.default_rng(seed)
    trace, _ = planted(random_plan(rng, n_pop, n_blocks), n_pop, noise, rng)
    np.testing.assert_allclose(active_set_pelt.pelt_features(trace, smooth),
                               naive.features(trace.tolist(), smooth), rtol=1e-9, atol=1e-12)
    got = active_set_pelt.pelt_bounds(trace, penalty, min_size, jump, refine, smooth)
    assert got.tolist() == naive.pelt_bounds(trace.tolist(), penalty, min_size, jump, refine, smooth)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_pop=st.integers(1, 5), n_blocks=st.integers(1, 8),
       noise=st.sampled_from([0.02, 0.1, 0.3]), max_active=st.sampled_from([None, 1, 2]),
       segmentation=st.sampled_from(["fixed", "pelt"]), merge=st.booleans(),
       flicker=st.sampled_from([0, 2, 3]), beta=st.sampled_from([0.0, 5.0]),
       canonical=st.booleans())
def test_variants_agree_with_the_naive_reference(seed, n_pop, n_blocks, noise, max_active,
                                                 segmentation, merge, flicker, beta, canonical):
    rng = np.random.default_rng(seed)
    trace, _ = planted(random_plan(rng, n_pop, n_blocks), n_pop, noise, rng)
    options = dict(max_active=max_active, segmentation=segmentation, merge_after_em=merge,
                   min_flicker_duration=flicker, beta_merge=beta, canonical=canonical)
    expected = naive.infer(trace.tolist(), **options)
    assert as_naive(infer_states(trace, ActiveSetEM(**options))) == expected


# a 2-sample excursion of population 1 inside a long state of population 0 (an A-B-A flicker)
FLICKER_PLAN = [((), 40), ((0,), 30), ((0, 1), 2), ((0,), 30), ((), 40)]


def test_flicker_is_kept_by_default_and_removed_by_the_merging():
    trace, _ = planted(FLICKER_PLAN, 4, 0.005, np.random.default_rng(2))
    assert infer_states(trace).labels() == ["none", "0", "0+1", "0", "none"]
    # beta_merge large: any flicker of at most 2 samples goes (weak-boundary merging off)
    merged = infer_states(trace, ActiveSetEM(merge_after_em=True, min_flicker_duration=2,
                                             beta_merge=1e9, merge_max_iter=0))
    assert merged.labels() == ["none", "0", "none"]
    assert merged.start.tolist() == [0, 40, 102]
    # flickers longer than min_flicker_duration stay
    kept = infer_states(trace, ActiveSetEM(merge_after_em=True, min_flicker_duration=1,
                                           beta_merge=1e9, merge_max_iter=0))
    assert kept.labels() == ["none", "0", "0+1", "0", "none"]


def test_pelt_segmentation_recovers_planted_states_and_joins_noise_splits():
    # noise 0.03: the one-sample default splits states (docs/STATISTICS.md), PELT does not
    trace, truth = planted(FLICKER_PLAN[:2] + FLICKER_PLAN[3:], 4, 0.03, np.random.default_rng(5))
    seg = infer_states(trace, ActiveSetEM(segmentation="pelt"))
    assert seg.labels() == ["none", "0", "none"] and seg.start.tolist() == [0, 40, 100]
    assert len(infer_states(trace)) > 3


def test_clear_errors():
    with pytest.raises(OptionError, match=r"ActiveSetEM.segmentation: unknown segmentation 'hmm' "
                                          r"\(allowed: fixed, pelt\)") as err:
        ActiveSetEM(segmentation="hmm")
    assert err.value.allowed == ("fixed", "pelt")
    for name, value in [("pelt_jump", 0), ("pelt_min_size", 1.5), ("min_flicker_duration", -1),
                        ("merge_max_iter", None), ("pelt_penalty", -1.0), ("beta_merge", float("nan")),
                        ("merge_after_em", 1), ("pelt_refine", "yes")]:
        with pytest.raises(OptionError, match=f"ActiveSetEM.{name}: must be"):
            ActiveSetEM(**{name: value})


def test_refinement_moves_a_coarse_change_point_within_its_radius():
    f = np.r_[np.zeros(7), np.ones(13)][:, None] + 0.01 * np.random.default_rng(0).standard_normal((20, 1))
    for coarse, radius, expected in [(10, 3, 7), (10, 2, 8), (4, 3, 7), (9, 1, 8)]:
        got = active_set_pelt.refine_breakpoints(f, np.array([coarse, 20]), radius, 1)
        assert got.tolist() == [expected, 20]
        assert naive.refine(f.tolist(), [coarse], radius, 1) == [expected]
    # min_size keeps the left segment at least 3 samples long and the right one too
    assert active_set_pelt.refine_breakpoints(f, np.array([3, 20]), 3, 3).tolist() == [6, 20]
