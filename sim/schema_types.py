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
    ``constant`` always returns the mean.
    """

    dist: Literal["exponential", "lognormal", "gamma", "constant"] = "exponential"
    mean: PositiveFloat
    cv: PositiveFloat = 1.0

    @model_validator(mode="after")
    def _exp_cv(self) -> Distribution:
        if self.dist == "exponential" and self.cv != 1.0:
            raise ValueError("an exponential distribution has cv 1; use lognormal or gamma")
        return self
