"""Operations mode: exceptions that emerge from a distributor's orders, stock and carriers."""

from sim.generators.operations.world import operations_world

__all__ = ["operations_world"]
