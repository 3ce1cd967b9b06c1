"""Building blocks shared by the scenario and policy models.

``Strict`` is the base of every input model: unknown fields are errors (a typo must not pass
silently), numbers are finite (``.inf`` would pass every ``gt=0`` check and run forever) and
never ``true``/``false`` (YAML's ``agents: true`` is not one agent), and validated models are
frozen. ``Distribution`` describes a positive random
quantity the way practitioners talk about one: its mean and how variable it is.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_not_booleans(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                value = data.get(field.alias or name)
                if isinstance(value, bool) and _numeric(field.annotation):
                    raise ValueError(f"{name}: must be a number, not {str(value).lower()}")
        return data


def _numeric(annotation: Any) -> bool:
    """Whether a field holds a number (int or float, possibly optional), not a bool."""
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) is Annotated:
        return _numeric(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return bool not in args and any(_numeric(a) for a in args)
    return False


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
