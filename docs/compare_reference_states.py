"""The project's state inference against the reference's own code on the same traces.

    python docs/compare_reference_states.py --reference-src DIR --reference-python PY \
        [--variant NAME ...] [STORE ...]

``DIR`` holds the reference repository (``schmitfe/EI-Clustering``: its ``analysis``,
``spiketools`` and ``sim_config`` directories are used), ``PY`` a Python with its needs
(numpy, pandas, scipy, scikit-learn, pyyaml, matplotlib). The traces are the excitatory
populations' activity of every point of each STORE (``keep_traces = true``), plus the synthetic
traces of ``tests/sweeps/analysis/test_active_set.py``. The reference runs
``analysis.episode_inference.infer_active_set_episodes`` with the README's defaults of
``scripts/plot_figure3_dwell_times.py`` (``segmentation="fixed"``, one-bin segments,
excitatory populations, canonical active sets, edge dwells excluded); the project
``infer_states(trace)`` and ``dwell_summary``. Prints per trace the number of segments, the mean
dwell time of each side, and the fraction of samples on which both give the same active set.

``--variant`` (repeatable; default all) chooses the state inference on both sides (VARIANTS):
``fixed`` the default above; ``pelt`` PELT segments then the EM (the reference's
``--segmentation pelt --changepoint-backend ruptures``; the project's
``ActiveSetEM(segmentation="pelt")``); ``pelt-skchange`` the same project side against the
reference's default change-point library (skchange; PY must import it); ``fixed+merge`` and
``pelt+merge`` add the merging after the EM with flickers of up to 3 samples removed
(``--merge-after-em --min-flicker-duration 3``; ``merge_after_em=True, min_flicker_duration=3``);
``high-state`` the state inference of ``Figure4_HighState.py`` (PELT with segments of at least 2
samples, skchange, and that merging).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from sweeps import open_results
from sweeps.analysis.states import ActiveSetEM, dwell_summary, excitatory_traces, infer_states

_MERGE = {"merge_after_em": True, "min_flicker_duration": 3}
#: name: (project's ActiveSetEM options, reference's infer_active_set_episodes options)
VARIANTS = {
    "fixed": ({}, {"segmentation": "fixed", "fixed_width": 1}),
    "pelt": ({"segmentation": "pelt"}, {"segmentation": "pelt", "changepoint_backend": "ruptures"}),
    "pelt-skchange": ({"segmentation": "pelt"}, {"segmentation": "pelt", "changepoint_backend": "skchange"}),
    "fixed+merge": (_MERGE, {"segmentation": "fixed", "fixed_width": 1, **_MERGE}),
    "pelt+merge": ({"segmentation": "pelt", **_MERGE},
                   {"segmentation": "pelt", "changepoint_backend": "ruptures", **_MERGE}),
    # Figure4_HighState.py's defaults: PELT (least segment 2 samples, skchange), merging
    "high-state": ({"segmentation": "pelt", "pelt_min_size": 2, **_MERGE},
                   {"segmentation": "pelt", "pelt_min_size": 2, "changepoint_backend": "skchange", **_MERGE}),
}

REFERENCE_PROGRAM = r"""
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from analysis.episode_inference import infer_active_set_episodes
from analysis.types import AnalysisInput
data = np.load(sys.argv[2])
options = json.loads(sys.argv[3])
dt_s = float(data["dt_ms"]) / 1000.0
out = []
for i in range(int(data["n"])):
    y = np.asarray(data[f"trace_{i}"], float)
    q = y.shape[1]
    inp = AnalysisInput(dt=dt_s, source_type="binary", X_rate=y, cluster_ids=list(range(q)),
                        cluster_names=[f"E{c}" for c in range(q)], cluster_cell_types=["E"] * q)
    res = infer_active_set_episodes(inp, options, condition="c", title="t", seed=0)
    seg = res.result.segments
    out.append({
        "segments": [[int(a), int(b), [int(n[1:]) for n in str(c).split(",") if n]]
                     for a, b, c in zip(seg["start_bin"], seg["stop_bin"], seg["clusters"])],
        "mean_dwell_ms": 1000.0 * res.summary["mean_dwell_time_s"],
        "n_dwells": res.summary["n_dwells_used"],
    })
print(json.dumps(out))
"""


def _traces(stores):
    out = []
    for store in stores:
        traces = excitatory_traces(open_results(store)).compute()
        dt = float(np.diff(traces["time"].values[:2])[0])
        others = [d for d in traces.dims if d not in ("time", "population")]
        stacked = traces.stack(point=others).transpose("point", "time", "population")
        for i in range(stacked.sizes["point"]):
            values = stacked.isel(point=i).values
            if np.isfinite(values).all():
                out.append((f"{Path(store).name} point {i}", values, dt))
    return out


def _synthetic():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.sweeps.analysis.test_active_set import PLAN, planted, simulation_like

    rng = np.random.default_rng(1)
    plan = [(tuple(rng.choice(20, size=rng.integers(0, 3), replace=False)), int(rng.integers(1, 60)))
            for _ in range(60)]
    return [("planted (4 populations, noise 0.03)",
             planted(PLAN, 4, 0.03, np.random.default_rng(0))[0], 10.0),
            ("planted (20 populations, noise 0.02)", planted(plan, 20, 0.02, rng)[0], 10.0),
            ("simulation-like (20 populations)", simulation_like(np.random.default_rng(3)), 10.0),
            ("one population, noise 0.3 (equal costs)", _one_population(), 10.0)]


def _one_population():
    """The hypothesis example of test_active_set.py: k = 0 and k = 1 tie at the first E-step."""
    from tests.sweeps.analysis.test_active_set import planted

    rng = np.random.default_rng(307)
    plan = [(tuple(rng.choice(1, size=rng.integers(0, 2), replace=False)), int(rng.integers(1, 25)))
            for _ in range(3)]
    return planted(plan, 1, 0.3, rng)[0]


def _per_sample(segments, n, q):
    out = np.zeros((n, q), bool)
    for a, b, clusters in segments:
        out[a:b, clusters] = True
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", nargs="*")
    parser.add_argument("--reference-src", required=True)
    parser.add_argument("--reference-python", required=True)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    args = parser.parse_args(argv)
    cases = _synthetic() + _traces(args.stores)
    for variant in args.variant or list(VARIANTS):
        mine_opts, ref_opts = VARIANTS[variant]
        opts = ActiveSetEM(**mine_opts)
        print(f"\nvariant {variant}: project ActiveSetEM({mine_opts}), reference {ref_opts}\n")
        print("| trace | segments ref. | segments here | mean dwell ms ref. | mean dwell ms here "
              "| samples agreeing | identical |")
        print("|---|---|---|---|---|---|---|")
        for dt in sorted({c[2] for c in cases}):
            group = [c for c in cases if c[2] == dt]
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "traces.npz"
                np.savez(path, n=len(group), dt_ms=dt, **{f"trace_{i}": c[1] for i, c in enumerate(group)})
                result = subprocess.run([args.reference_python, "-c", REFERENCE_PROGRAM,
                                         args.reference_src, str(path), json.dumps(ref_opts)],
                                        capture_output=True, text=True, check=True)
            for (name, trace, _), ref in zip(group, json.loads(result.stdout), strict=True):
                seg = infer_states(trace, opts)
                mine = [[int(a), int(b), list(np.flatnonzero(row))]
                        for a, b, row in zip(seg.start, seg.end, seg.active, strict=True)]
                summary = dwell_summary(seg, dt)
                n, q = trace.shape
                same = np.all(_per_sample(ref["segments"], n, q) == _per_sample(mine, n, q), axis=1)
                print(f"| {name} | {len(ref['segments'])} | {len(seg)} | {ref['mean_dwell_ms']:.1f} | "
                      f"{summary.mean_ms:.1f} | {same.mean():.4f} | "
                      f"{'yes' if ref['segments'] == mine else 'no'} |")


if __name__ == "__main__":
    main()
