"""sweeps: distributed parameter sweeps of binary networks into one chunked Zarr store."""
