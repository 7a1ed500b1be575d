"""Fixed frame layouts declared as field tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Field:
    """One number of a fixed layout: where it sits, how it is stored, its meaning."""

    target: str
    offset: int
    size: int
    signed: bool = False
    scale: float = 1.0
    # Decimals kept after scaling; None keeps the raw integer.
    decimals: int | None = None
    order: Literal["big", "little"] = "big"

    def read(self, data: bytes) -> float:
        """The field's value in ``data``."""
        raw = int.from_bytes(
            data[self.offset : self.offset + self.size], self.order, signed=self.signed
        )
        if self.decimals is None:
            return raw
        return round(raw * self.scale, self.decimals)


def read_fields(fields: Iterable[Field], data: bytes) -> dict[str, float]:
    """Every field's value, by target."""
    return {field.target: field.read(data) for field in fields}
