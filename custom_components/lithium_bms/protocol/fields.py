"""Fixed frame layouts declared as field tables.

A table declared as a :class:`Layout` is compiled once, at import, to a single
``struct`` unpack, so decoding a frame costs one call instead of a slice and an
integer conversion per field.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, overload

# struct codes of the field sizes it unpacks as numbers.
_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
_ORDERS = {"big": ">", "little": "<"}


def _code(size: int, signed: bool) -> str | None:
    code = _CODES.get(size)
    if code is None:
        return None
    return code.lower() if signed else code


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
    _struct: struct.Struct | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Compile the field's own unpack, where its size allows one."""
        code = _code(self.size, self.signed)
        compiled = None if code is None else struct.Struct(_ORDERS[self.order] + code)
        object.__setattr__(self, "_struct", compiled)

    def read(self, data: bytes) -> float:
        """The field's value in ``data``."""
        end = self.offset + self.size
        if self._struct is not None and len(data) >= end:
            raw: int = self._struct.unpack_from(data, self.offset)[0]
        else:
            # Short data reads what is there, as a slice does.
            raw = int.from_bytes(
                data[self.offset : end], self.order, signed=self.signed
            )
        if self.decimals is None:
            return raw
        return round(raw * self.scale, self.decimals)


# How a compiled table turns one unpacked item into a field's value: its name,
# its place in the unpack, scale, decimals, and for a size struct has no code
# for (unpacked as bytes) the byte order and sign.
type _Step = tuple[
    str, int, float, int | None, tuple[Literal["big", "little"], bool] | None
]


def _compile(fields: Sequence[Field]) -> tuple[struct.Struct, tuple[_Step, ...]] | None:
    """One unpack for the whole table, and how each field reads its item.

    None when the fields overlap or mix byte orders: the table then reads
    field by field.
    """
    # A single byte reads the same in either order.
    orders = {f.order for f in fields if f.size > 1} or {"big"}
    if not fields or len(orders) > 1:
        return None
    by_offset = sorted(range(len(fields)), key=lambda i: fields[i].offset)
    fmt = _ORDERS[orders.pop()]
    at = 0
    slots = [0] * len(fields)
    for slot, index in enumerate(by_offset):
        item = fields[index]
        if item.offset < at:
            return None
        if item.offset > at:
            fmt += f"{item.offset - at}x"
        fmt += _code(item.size, item.signed) or f"{item.size}s"
        at = item.offset + item.size
        slots[index] = slot
    steps = tuple(
        (
            f.target,
            slot,
            f.scale,
            f.decimals,
            None if _code(f.size, f.signed) else (f.order, f.signed),
        )
        for f, slot in zip(fields, slots, strict=True)
    )
    return struct.Struct(fmt), steps


class Layout(Sequence[Field]):
    """A field table, compiled once to a single unpack where it can be."""

    __slots__ = ("_compiled", "_fields")

    def __init__(self, *fields: Field) -> None:
        """Compile ``fields`` (kept in their declared order)."""
        self._fields = fields
        self._compiled = _compile(fields)

    @overload
    def __getitem__(self, index: int) -> Field: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Field]: ...

    def __getitem__(self, index: int | slice) -> Field | Sequence[Field]:
        """A field, or a slice of the table."""
        return self._fields[index]

    def __len__(self) -> int:
        """The number of fields."""
        return len(self._fields)

    def __iter__(self) -> Iterator[Field]:
        """The fields in declared order."""
        return iter(self._fields)

    def read(self, data: bytes) -> dict[str, float]:
        """Every field's value, by target."""
        compiled = self._compiled
        if compiled is None or len(data) < compiled[0].size:
            return {f.target: f.read(data) for f in self._fields}
        unpacked = compiled[0].unpack_from(data)
        values: dict[str, float] = {}
        for target, slot, scale, decimals, as_bytes in compiled[1]:
            raw = unpacked[slot]
            if as_bytes is not None:
                raw = int.from_bytes(raw, as_bytes[0], signed=as_bytes[1])
            values[target] = raw if decimals is None else round(raw * scale, decimals)
        return values


@functools.cache
def _run(order: str, code: str, count: int) -> struct.Struct:
    return struct.Struct(f"{_ORDERS[order]}{count}{code}")


def unpack_run(
    data: bytes,
    offset: int,
    count: int,
    *,
    size: int = 2,
    order: Literal["big", "little"] = "big",
    signed: bool = False,
) -> tuple[int, ...]:
    """``count`` integers of ``size`` bytes side by side from ``offset``.

    One unpack where the data holds them all; short data reads as slices do
    (a missing byte reads as nothing).
    """
    code = _code(size, signed)
    if code is not None and len(data) >= offset + count * size:
        values: tuple[int, ...] = _run(order, code, count).unpack_from(data, offset)
        return values
    return tuple(
        int.from_bytes(data[at : at + size], order, signed=signed)
        for at in range(offset, offset + count * size, size)
    )


def read_fields(fields: Iterable[Field], data: bytes) -> dict[str, float]:
    """Every field's value, by target."""
    if isinstance(fields, Layout):
        return fields.read(data)
    return {f.target: f.read(data) for f in fields}
