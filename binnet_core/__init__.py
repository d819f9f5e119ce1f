"""binnet_core: a fast, reproducible numba engine for binary (Glauber-type) neural networks."""
