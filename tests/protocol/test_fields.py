"""Field tables of fixed layouts."""

from __future__ import annotations

from typing import Literal

import pytest

from custom_components.lithium_bms.protocol.fields import (
    Field,
    Layout,
    read_fields,
    unpack_run,
)


def test_fields_read_size_sign_scale_and_order() -> None:
    data = bytes.fromhex("0618 fc18 2c7c 0a")
    fields = (
        Field("voltage", 0, 2, scale=0.01, decimals=2),
        Field("current", 2, 2, signed=True, scale=0.01, decimals=2),
        Field("raw", 4, 2, order="little"),
        Field("count", 6, 1),
    )
    assert read_fields(fields, data) == {
        "voltage": 15.6,
        "current": -10.0,
        "raw": 0x7C2C,
        "count": 10,
    }
    assert isinstance(fields[2].read(data), int)


def _per_field(fields: Layout, data: bytes) -> dict[str, float]:
    return {field.target: field.read(data) for field in fields}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            Layout(
                Field("voltage", 0, 4, scale=0.001, decimals=3, order="little"),
                Field("count", 4, 1),
                Field("current", 6, 2, signed=True, scale=0.1, decimals=1),
            ),
            id="mixed-order-is-per-field",
        ),
        pytest.param(
            Layout(
                Field("b", 9, 2, signed=True, scale=0.01, decimals=2),
                Field("a", 0, 4),
                Field("word", 4, 3, signed=True),
                Field("byte", 7, 1),
            ),
            id="gaps-unsorted-and-three-bytes",
        ),
        pytest.param(
            Layout(Field("whole", 0, 4), Field("half", 2, 2)),
            id="overlapping-is-per-field",
        ),
    ],
)
def test_layout_reads_as_each_field_does(fields: Layout) -> None:
    for data in (bytes(range(0xF0, 0xFC)), bytes(range(12)), bytes(range(5))):
        values = read_fields(fields, data)
        assert values == _per_field(fields, data)
        assert list(values) == [field.target for field in fields]
        assert [type(v) for v in values.values()] == [
            type(v) for v in _per_field(fields, data).values()
        ]


def test_layout_compiles_a_table_of_one_byte_order() -> None:
    fields = Layout(
        Field("voltage", 0, 2, scale=0.01, decimals=2),
        Field("current", 2, 2, signed=True, scale=0.01, decimals=2),
        Field("flags", 5, 3),
        Field("count", 8, 1, order="little"),
    )
    data = bytes.fromhex("0618 fc18 00 ff0001 0a")
    assert fields.read(data) == {
        "voltage": 15.6,
        "current": -10.0,
        "flags": 0xFF0001,
        "count": 10,
    }
    # Short data reads what is there, field by field, as a slice does.
    assert fields.read(data[:3]) == {
        "voltage": 15.6,
        "current": -0.04,
        "flags": 0,
        "count": 0,
    }
    assert len(fields) == 4
    assert fields[1].target == "current"


@pytest.mark.parametrize("order", ["big", "little"])
@pytest.mark.parametrize(("size", "signed"), [(1, False), (2, True), (3, False)])
def test_unpack_run_reads_as_slices_do(
    order: Literal["big", "little"], size: int, signed: bool
) -> None:
    data = bytes(range(0x80, 0x80 + 40))
    for offset, count in ((0, 8), (5, 7), (30, 6), (39, 2)):
        expected = tuple(
            int.from_bytes(data[at : at + size], order, signed=signed)
            for at in range(offset, offset + count * size, size)
        )
        got = unpack_run(data, offset, count, size=size, order=order, signed=signed)
        assert got == expected
