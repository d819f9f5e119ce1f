"""What to run: experiment definitions (TOML), the grid they expand into, and the seeds of each point."""
