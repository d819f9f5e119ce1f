"""How points run: the task of a worker, starts, executors, the driver, batch systems and cost."""
