"""Building blocks shared by the scenario and policy models.

``Strict`` is the base of every input model: unknown fields are errors (a typo must not pass
silently) and validated models are frozen. ``Distribution`` describes a positive random
quantity the way practitioners talk about one: its mean and how variable it is.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(Strict):
    """A positive random quantity given by its mean (and coefficient of variation).

    ``exponential`` has cv 1 by definition; ``lognormal`` and ``gamma`` take ``cv``;
    ``constant`` always returns the mean. ``empirical`` draws from a recorded sample given by
    its ``quantiles`` (values at equally spaced probabilities 0, 1/(k-1), ..., 1, linearly
    interpolated): bounded by the smallest and largest value seen, no tail beyond them; its
    ``mean`` and ``cv`` are the sample's, for people to read.
    """

    dist: Literal["exponential", "lognormal", "gamma", "constant", "empirical"] = "exponential"
    mean: PositiveFloat
    cv: PositiveFloat = 1.0
    quantiles: list[NonNegFloat] | None = None

    @model_validator(mode="after")
    def _exp_cv(self) -> Distribution:
        if self.dist == "exponential" and self.cv != 1.0:
            raise ValueError("an exponential distribution has cv 1; use lognormal or gamma")
        if (self.dist == "empirical") != (self.quantiles is not None):
            raise ValueError("quantiles are given exactly when dist is empirical")
        if self.quantiles is not None:
            q = self.quantiles
            if len(q) < 2 or any(b < a for a, b in zip(q, q[1:], strict=False)):
                raise ValueError("quantiles: at least two values, in increasing order")
        return self
