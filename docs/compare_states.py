"""Inferred states (ruptures PELT) against the hysteresis rule on a store with traces.

    python docs/compare_states.py STORE

For every R_Eplus, averaged over the other swept axes and replicates, prints per method the
state changes per second, the mean dwell time of single-cluster states (complete segments;
mean over the points that have any) and the fraction of samples on which both methods agree
on the set of active clusters. Needs
``pip install -e ".[states]"``.
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np

from sweeps import open_results
from sweeps.analysis.states import (
    Pelt,
    cluster_traces,
    dwell_times,
    hysteresis_segments,
    infer_states,
)


def _per_sample(segments, n):
    out = np.zeros((n, segments.active.shape[1]), bool)
    for start, end, row in zip(segments.start, segments.end, segments.active, strict=True):
        out[start:end] = row
    return out


def _single_dwell(segments, dt):
    times = [v for label, v in dwell_times(segments, dt).items() if label != "none" and "+" not in label]
    return float(np.concatenate(times).mean()) if times else float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--on", type=float, default=0.3)
    parser.add_argument("--off", type=float, default=0.2)
    args = parser.parse_args(argv)
    traces = cluster_traces(open_results(args.store)).compute()
    dt = float(np.diff(traces["time"].values[:2])[0])
    seconds = traces.sizes["time"] * dt / 1000.0
    others = [d for d in traces.dims if d not in ("R_Eplus", "time", "cluster")]
    print(f"{args.store}: dt={dt:g} ms, {seconds:g} s per point, averaged over {', '.join(others)}")
    print("| R_Eplus | changes/s hyst. | changes/s PELT | single dwell ms hyst. | "
          "single dwell ms PELT | samples agreeing |")
    print("|---|---|---|---|---|---|")
    for r in traces["R_Eplus"].values:
        at = traces.sel(R_Eplus=r).stack(point=others).transpose("point", "time", "cluster")
        rows = []
        for trace in at.values:
            hyst = hysteresis_segments(trace, args.on, args.off)
            pelt = infer_states(trace, Pelt(threshold=args.on))
            same = _per_sample(hyst, len(trace)) == _per_sample(pelt, len(trace))
            rows.append([(len(hyst) - 1) / seconds, (len(pelt) - 1) / seconds,
                         _single_dwell(hyst, dt), _single_dwell(pelt, dt),
                         np.mean(np.all(same, axis=1))])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # no single-cluster segment: NaN
            m = np.nanmean(np.array(rows), axis=0)
        print(f"| {r:g} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.0f} | {m[3]:.0f} | {m[4]:.3f} |")


if __name__ == "__main__":
    main()
