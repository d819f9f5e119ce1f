"""Analysis of results: selection, averages, bootstrap intervals, states, figures (sweeps.analysis.plots)."""

from sweeps.analysis.datasets import average_seeds, best_point, only_ok, select, summarize

__all__ = ["average_seeds", "best_point", "only_ok", "select", "summarize"]
