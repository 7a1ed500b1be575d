"""Options the same for every family are applied once, by the client."""

from __future__ import annotations

import pytest

from bms_simulator.registry import DEMOS
from bms_simulator.transport import SimulatorTransport
from custom_components.lithium_bms.protocol.client import BmsClient, oriented
from custom_components.lithium_bms.protocol.driver import DriverOptions
from custom_components.lithium_bms.protocol.registry import driver_by_family
from custom_components.lithium_bms.protocol.snapshot import BatterySnapshot, SwitchKind

ADDRESS = "C0:FF:EE:00:00:01"


def client_for(family: str, *, invert: bool, current: float) -> BmsClient:
    device = DEMOS[family](ADDRESS)
    device.pack.current = current
    driver_class = driver_by_family(family)
    driver = driver_class(
        SimulatorTransport(device),
        # With the advertised name, as the integration builds every driver.
        DriverOptions(
            address=ADDRESS, name=device.advertising.name, invert_current=invert
        ),
    )
    return BmsClient(driver)


def test_oriented_negates_only_the_current() -> None:
    snapshot = BatterySnapshot(voltage=13.2, current=-4.5, state_of_charge=50.0)
    assert oriented(snapshot, DriverOptions()) is snapshot
    inverted = oriented(snapshot, DriverOptions(invert_current=True))
    assert inverted.current == 4.5
    assert inverted.power == pytest.approx(-snapshot.power)
    assert inverted.voltage == snapshot.voltage
    assert inverted.state_of_charge == snapshot.state_of_charge


@pytest.mark.parametrize("family", sorted(DEMOS))
async def test_invert_current_applies_once_for_every_family(family: str) -> None:
    plain = client_for(family, invert=False, current=-7.5)
    inverted = client_for(family, invert=True, current=-7.5)
    try:
        read = (await plain.read_snapshot()).current
        flipped = (await inverted.read_snapshot()).current
    finally:
        await plain.close()
        await inverted.close()
    assert read == pytest.approx(-7.5, abs=0.1)
    assert flipped == pytest.approx(-read)


@pytest.mark.parametrize("family", sorted(DEMOS))
async def test_a_switch_confirmation_is_inverted_too(family: str) -> None:
    client = client_for(family, invert=True, current=3.0)
    if SwitchKind.CHARGE not in client.driver.switches:
        pytest.skip(f"{family} has no charge switch")
    try:
        snapshot = await client.set_switch(SwitchKind.CHARGE, True)
    finally:
        await client.close()
    assert snapshot.current == pytest.approx(-3.0, abs=0.1)


@pytest.mark.parametrize("family", sorted(DEMOS))
def test_a_stored_variant_is_taken_only_when_the_family_speaks_it(family: str) -> None:
    driver_class = driver_by_family(family)
    transport = SimulatorTransport(DEMOS[family](ADDRESS))
    for variant in driver_class.variants:
        driver = driver_class(transport, DriverOptions(variant=variant))
        assert driver.stored_variant == variant
        assert driver.variant == variant
    unknown = driver_class(transport, DriverOptions(variant="not-a-variant"))
    assert unknown.stored_variant is None
    assert unknown.variant is None


def test_families_with_variants_declare_them() -> None:
    assert driver_by_family("jk").variants == ("JK04", "JK02_24S", "JK02_32S")
    assert driver_by_family("daly").variants == ("d2", "p81", "a5_80", "a5_40")
    assert driver_by_family("jbd").variants == ("daren",)
