"""Field tables of fixed layouts."""

from __future__ import annotations

from custom_components.lithium_bms.protocol.fields import Field, read_fields


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
