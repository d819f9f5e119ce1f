"""Dwell times of inferred states for every point of a store (the paper's Figure 3 analysis).

    python -m sweeps.analysis.dwell STORE [--method active_set_em|pelt] [--csv FILE]
        [--segmentation fixed|pelt] [--pelt-penalty P] [--pelt-min-size N] [--merge-after-em]
        [--min-flicker-duration N] [--beta-merge B] (options of the active-set EM)

For every point with stored ``activity`` traces: the excitatory populations' activity
(:func:`~sweeps.analysis.states.excitatory_traces`), states by
:func:`~sweeps.analysis.states.infer_states` (default: the active-set EM on one-sample
segments; ``--segmentation pelt``: PELT segments, ``--merge-after-em``: flickers and weak
boundaries removed, :class:`~sweeps.analysis.active_set.ActiveSetEM`) and the per-trace summary :func:`~sweeps.analysis.states.dwell_summary` (edge
segments left out). The command prints one row per point and, over the networks (and inits),
the mean and standard deviation of the points' mean dwell times, as the paper's aggregate.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np
import xarray as xr

from sweeps.analysis.states import (
    METHODS,
    ActiveSetEM,
    DwellSummary,
    Pelt,
    dwell_summary,
    excitatory_traces,
    infer_states,
)

__all__ = ["SUMMARY_FIELDS", "dwell_table", "main"]

#: variables of :func:`dwell_table`: the fields of DwellSummary
SUMMARY_FIELDS = tuple(f.name for f in dataclasses.fields(DwellSummary))


def dwell_table(ds: xr.Dataset, method: str | ActiveSetEM | Pelt = "active_set_em") -> xr.Dataset:
    """Per point of ``ds`` the :class:`DwellSummary` fields as variables (float64).

    Dims: those of the stored traces except ``time`` and ``population``. Points without
    finite traces (not run, or failed) get NaN everywhere. ``method`` as
    :func:`~sweeps.analysis.states.infer_states` (checked before any work).
    """
    infer_states(np.zeros((1, 1)), method)  # checks the method and its options
    traces = excitatory_traces(ds)
    times = traces["time"].values
    if times.size < 2:
        raise ValueError("dwell_table: need at least two samples per trace")
    dt = float(times[1] - times[0])
    point_dims = [d for d in traces.dims if d not in ("time", "population")]
    stacked = traces.stack(point=point_dims) if point_dims else traces.expand_dims("point")
    stacked = stacked.transpose("point", "time", "population")
    out = np.full((stacked.sizes["point"], len(SUMMARY_FIELDS)), np.nan)
    for i in range(stacked.sizes["point"]):
        trace = np.asarray(stacked.isel(point=i).values, np.float64)
        if np.isfinite(trace).all():
            summary = dwell_summary(infer_states(trace, method), dt)
            out[i] = [getattr(summary, f) for f in SUMMARY_FIELDS]
    table = xr.Dataset({f: (("point",), out[:, j]) for j, f in enumerate(SUMMARY_FIELDS)},
                       coords={"point": stacked["point"]} if point_dims else None)
    if point_dims:
        return table.unstack("point")
    return table.isel(point=0, drop=True)


def main(argv=None) -> int:
    """Command line: print the dwell-time table of a store (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m sweeps.analysis.dwell",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--method", choices=sorted(METHODS), default="active_set_em")
    parser.add_argument("--max-active", type=int, default=None,
                        help="active_set_em: most populations active at once (default: all)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="pelt: activity above which a cluster is active (default 0.3)")
    em = {"--segmentation": dict(choices=("fixed", "pelt"), default=None,
                                 help="active_set_em: fixed one-sample segments (default) or PELT"),
          "--pelt-penalty": dict(type=float, default=None, help="active_set_em --segmentation pelt "
                                 "(default 10)"),
          "--pelt-min-size": dict(type=int, default=None, help="active_set_em --segmentation pelt: "
                                  "least segment in samples (default 1)"),
          "--merge-after-em": dict(action="store_true", default=None,
                                   help="active_set_em: remove flickers and weak boundaries"),
          "--min-flicker-duration": dict(type=int, default=None, help="--merge-after-em: longest "
                                         "A-B-A flicker removed, in samples (default 0)"),
          "--beta-merge": dict(type=float, default=None, help="--merge-after-em: cost tolerance "
                               "(default 0)")}
    for flag, kwargs in em.items():
        parser.add_argument(flag, **kwargs)
    parser.add_argument("--csv", help="also write the per-point table to this CSV file")
    args = parser.parse_args(argv)
    from sweeps import open_results
    from sweeps.errors import SweepsError

    try:
        if args.method == "pelt":
            for flag in ["--max-active", *em]:
                if getattr(args, flag[2:].replace("-", "_")) is not None:
                    parser.error(f"{flag} belongs to --method active_set_em")
            method = Pelt() if args.threshold is None else Pelt(threshold=args.threshold)
        else:
            if args.threshold is not None:
                parser.error("--threshold belongs to --method pelt")
            given = {name: getattr(args, name) for name in ("max_active", "segmentation", "pelt_penalty",
                                                            "pelt_min_size", "merge_after_em", "min_flicker_duration",
                                                            "beta_merge")
                     if getattr(args, name) is not None}
            method = ActiveSetEM(**given)
        table = dwell_table(open_results(args.store), method).compute()
    except (SweepsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    frame = table.to_dataframe()
    options = "".join(f", {k}={v}" for k, v in dataclasses.asdict(method).items()
                      if v != getattr(type(method)(), k))
    print(f"{args.store}: method {args.method}{options}, dwell times in ms")
    print(frame.to_string(float_format=lambda v: f"{v:.4g}"))
    groups = [d for d in table.dims if d not in ("network", "init")]
    if len(groups) < len(table.dims):
        means = table["mean_ms"]
        reduce = [d for d in ("network", "init") if d in table.dims]
        agg = xr.Dataset({"networks": means.count(reduce), "mean_of_mean_ms": means.mean(reduce),
                          "sd_across_networks_ms": means.std(reduce, ddof=1)})
        print("\nover networks (and inits): mean and standard deviation of the mean dwell times")
        print(agg.to_dataframe().to_string(float_format=lambda v: f"{v:.4g}"))
    if args.csv:
        frame.to_csv(args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
