"""Which form a new Seplos pack speaks over Bluetooth: V2 (FF00) or V3 (FFF0).

A V2 module (``BP0x``, service FF00) answers the binary V2 requests; a V3
module (``SP..B``, service FFF0) the Modbus reads of device 0x01. Each ignores
the other's request: a V3 module sees a frame for Modbus device 0x7E, a V2
module a frame without its 0x7E start. The probe sends both and the first
reply decides; the variant is then stored with the entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import v2ble, v3
from .variants import BLE_VARIANT_TYPES, V2, V3, SeplosVariant

if TYPE_CHECKING:
    from .driver import SeplosDriver


def known_variant(
    driver: SeplosDriver, stored: str | None, device: int
) -> SeplosVariant | None:
    """The stored variant's object, None when a probe must tell."""
    variant = BLE_VARIANT_TYPES.get(stored or "")
    return None if variant is None else variant(driver, device)


async def probe(driver: SeplosDriver, device: int) -> SeplosVariant:
    """Ask in both forms; the first reply tells the variant."""
    driver.inbox.clear()
    await driver.send(v2ble.build_request(v2ble.INFO))
    await driver.send(v3.BLE_PIA.request(device))
    try:
        frame = await driver.inbox.wait_for(lambda _: True, driver.request_timeout)
    finally:
        driver.transport.release()
    name = V2 if frame[0] == v2ble.SOI else V3
    return BLE_VARIANT_TYPES[name](driver, device)
