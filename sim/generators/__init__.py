"""Generators: what happens in the world (exception arrivals, their work and attributes)."""
