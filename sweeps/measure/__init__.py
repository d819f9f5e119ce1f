"""What a point stores: the measurement registry, the recording of a run and its statistics."""
