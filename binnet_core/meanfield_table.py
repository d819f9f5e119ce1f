"""Former path of :mod:`binnet_core.meanfield.tables` (version 0.1); kept for older imports."""

from binnet_core.meanfield.tables import GROUPS, TheoryTable, bifurcation_table, theory_table  # noqa: F401
