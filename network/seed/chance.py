"""Weighted draws for the generated data sets: every draw from the one seeded random generator
the caller passes, so that a seed always gives the same network."""

from __future__ import annotations

import random
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """Values drawn in proportion to their weights."""

    def __init__(self, *weighted: tuple[T, float]) -> None:
        self.values = [value for value, _ in weighted]
        self.weights = [weight for _, weight in weighted]

    def draw(self, rng: random.Random) -> T:
        return rng.choices(self.values, self.weights)[0]
