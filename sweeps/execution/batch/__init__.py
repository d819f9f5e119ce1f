"""Batch systems (SLURM, PBS): the [cluster] table, preflight checks, driver jobs, dask-jobqueue."""
