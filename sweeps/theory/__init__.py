"""Theory over a sweep's grid: what a model declares it can predict, computed for every point."""
