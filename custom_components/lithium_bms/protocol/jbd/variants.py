"""The JBD layouts: one object each behind one interface.

JBD's own (0x03 with its NTC probes, the model in 0x05) and Daren's
(:mod:`.daren`: its own 0x03 tail, the texts in 0x08). The driver takes the
stored variant, else the one the advertised name says, and hands every
decode to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from . import daren
from .frames import REG_MODEL, BasicInfo, InfoTexts, decode_basic, decode_model


@dataclass(frozen=True, slots=True)
class JbdVariant:
    """How one layout reads register 0x03 and the device information."""

    name: str
    manufacturer: str
    decode_basic: Callable[[bytes], BasicInfo]
    info_register: int
    decode_info: Callable[[bytes], InfoTexts]
    # Whether the device-information reply is kept out of the frame log.
    info_is_sensitive: bool = False


def _model(payload: bytes) -> InfoTexts:
    return InfoTexts(model=decode_model(payload) or None)


STANDARD = JbdVariant("jbd", "Jiabaida (JBD)", decode_basic, REG_MODEL, _model)
# Its 0x08 texts hold what reads like the serial number (DJM…).
DAREN = JbdVariant(
    "daren", "Daren", daren.decode_basic, daren.REG_INFO, daren.decode_info, True
)
VARIANTS: Mapping[str, JbdVariant] = {v.name: v for v in (STANDARD, DAREN)}
# Daren and Docan packs (aiobmsble 0.31.0 (PyPI sdist) aiobmsble/bms/daren_bms.py).
DAREN_NAMES = ("DWF*",)


def variant_by_name(name: str | None) -> JbdVariant:
    """Daren for its names, else JBD's own layout."""
    if name and any(fnmatchcase(name, pattern) for pattern in DAREN_NAMES):
        return DAREN
    return STANDARD
