"""Checks of the JSON values that requests and the control plane send the simulator."""

import math
from collections.abc import Mapping
from typing import Any


def is_int(value: Any) -> bool:
    """An integer, and not a bool (JSON true is no number)."""
    return isinstance(value, int) and not isinstance(value, bool)


def finite_number(spec: Mapping[str, Any], name: str, default: float) -> float:
    """``spec[name]`` (``default`` when absent) as a float; ValueError unless a finite number."""
    value = spec.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    return float(value)
