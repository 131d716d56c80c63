from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

from firmware.enos.types import FirmwareInfo
from firmware.presentation import display_name, known_size

register = template.Library()

BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"]

register.filter("known_size", known_size)


@register.filter
def binary_size(size: int | None) -> str:
    """52428800 -> "50.0 MiB", in the active language's number format; "" for an unknown or
    nonsense size (the template says it is unknown)."""
    size = known_size(size)
    if size is None:
        return ""
    value = float(size)
    for unit in BINARY_UNITS:
        if value < 1024 or unit == BINARY_UNITS[-1]:
            break
        value /= 1024
    if unit == "B":
        return f"{number_format(size)} B"
    return f"{number_format(value, decimal_pos=1)} {unit}"


@register.filter
def grouped(number: int | None) -> str:
    """An exact count with the active language's thousands separator: 52428800 -> "52,428,800"."""
    return "" if number is None else number_format(number, force_grouping=True)


@register.filter
def firmware_name(firmware: FirmwareInfo) -> str:
    """The firmware's name in the active language (or any name, or its id)."""
    return display_name(firmware, get_language()) or firmware.firmware_id
