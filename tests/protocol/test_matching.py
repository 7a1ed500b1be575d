"""Advertisement matchers and the registry that picks a family by them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_components.lithium_bms.protocol import registry
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.matching import (
    Advertisement,
    AdvertisementMatcher,
    full_uuid,
    uuid16,
)

from .fakes import EchoDriver

MANIFEST = (
    Path(__file__).parents[2] / "custom_components" / "lithium_bms" / "manifest.json"
)
FF00 = "0000ff00-0000-1000-8000-00805f9b34fb"


def adv(
    name: str | None = None,
    uuids: tuple[str, ...] = (),
    manufacturer: dict[int, bytes] | None = None,
) -> Advertisement:
    return Advertisement("A4:C1:37:00:11:22", name, uuids, manufacturer)


def test_uuid16() -> None:
    assert uuid16(0xFF00) == FF00
    assert uuid16(0xFFE0) == "0000ffe0-0000-1000-8000-00805f9b34fb"


def test_full_uuid_expands_16_bit_and_keeps_128_bit() -> None:
    assert full_uuid(0xFF00) == FF00
    telink = "00010203-0405-0607-0809-0a0b0c0d1910"
    assert full_uuid(telink.upper()) == telink


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("JBD-SP04S034", True),
        ("JBD-", True),
        ("jbd-sp04s034", False),
        ("xJBD-SP04", False),
        ("JBD", False),
        ("", False),
        (None, False),
    ],
)
def test_name_wildcard(name: str | None, expected: bool) -> None:
    assert AdvertisementMatcher(local_name="JBD-*").matches(adv(name)) is expected


def test_name_pattern_features() -> None:
    assert AdvertisementMatcher(local_name="DL-?1").matches(adv("DL-A1"))
    assert not AdvertisementMatcher(local_name="DL-?1").matches(adv("DL-AB1"))
    assert AdvertisementMatcher(local_name="SP[0-9]*").matches(adv("SP17S005"))
    assert AdvertisementMatcher(local_name="exact").matches(adv("exact"))
    assert not AdvertisementMatcher(local_name="exact").matches(adv("exactly"))


def test_service_uuid_is_case_insensitive() -> None:
    lower = AdvertisementMatcher(service_uuid=FF00)
    upper = AdvertisementMatcher(service_uuid=FF00.upper())
    for matcher in (lower, upper):
        assert matcher.matches(adv(uuids=(FF00.upper(),)))
        assert matcher.matches(adv(uuids=(uuid16(0x180F), FF00)))
        assert not matcher.matches(adv(uuids=(uuid16(0xFFE0),)))
        assert not matcher.matches(adv())


def test_manufacturer_id_and_data_start() -> None:
    by_id = AdvertisementMatcher(manufacturer_id=0x0B65)
    assert by_id.matches(adv(manufacturer={0x0B65: b""}))
    assert not by_id.matches(adv(manufacturer={0x0B66: b"\x88\xa0"}))
    assert not by_id.matches(adv(manufacturer=None))
    assert not by_id.matches(adv(manufacturer={}))
    start = AdvertisementMatcher(
        manufacturer_id=0x0B65, manufacturer_data_start=b"\x88\xa0"
    )
    assert start.matches(adv(manufacturer={0x0B65: b"\x88\xa0\x01\x02"}))
    assert start.matches(adv(manufacturer={0x0B65: b"\x88\xa0"}))
    assert not start.matches(adv(manufacturer={0x0B65: b"\x88"}))
    assert not start.matches(adv(manufacturer={0x0B65: b"\x00\x88\xa0"}))
    assert not start.matches(adv(manufacturer={0x0B66: b"\x88\xa0"}))


def test_fields_are_combined_with_and() -> None:
    matcher = AdvertisementMatcher(
        local_name="DL-*", service_uuid=uuid16(0xFFF0), manufacturer_id=770
    )
    full = {"name": "DL-1", "uuids": (uuid16(0xFFF0),), "manufacturer": {770: b"x"}}
    assert matcher.matches(adv(**full))  # type: ignore[arg-type]
    assert not matcher.matches(adv(**{**full, "name": "XX-1"}))  # type: ignore[arg-type]
    assert not matcher.matches(adv(**{**full, "uuids": ()}))  # type: ignore[arg-type]
    assert not matcher.matches(adv(**{**full, "manufacturer": {771: b"x"}}))  # type: ignore[arg-type]
    assert AdvertisementMatcher().matches(adv())


def test_as_manifest() -> None:
    assert AdvertisementMatcher(local_name="JBD-*").as_manifest() == {
        "local_name": "JBD-*",
        "connectable": True,
    }
    full = AdvertisementMatcher(
        local_name="JK-*",
        service_uuid=uuid16(0xFFE0),
        manufacturer_id=2917,
        manufacturer_data_start=b"\x88\xa0",
    )
    assert full.as_manifest() == {
        "local_name": "JK-*",
        "service_uuid": "0000ffe0-0000-1000-8000-00805f9b34fb",
        "manufacturer_id": 2917,
        "manufacturer_data_start": [0x88, 0xA0],
        "connectable": True,
    }
    assert json.loads(json.dumps(full.as_manifest())) == full.as_manifest()


def test_driver_by_family() -> None:
    assert registry.driver_by_family("jbd") is JbdDriver
    for driver in registry.DRIVERS:
        assert registry.driver_by_family(driver.family) is driver
    with pytest.raises(KeyError):
        registry.driver_by_family("unknown")


def test_families_are_unique() -> None:
    families = [driver.family for driver in registry.DRIVERS]
    assert len(families) == len(set(families))


def test_driver_for_advertisement() -> None:
    assert registry.driver_for_advertisement(adv("JBD-SP04S034", (FF00,))) is JbdDriver
    assert registry.driver_for_advertisement(adv("JBD-SP04S034")) is JbdDriver
    assert registry.driver_for_advertisement(adv("Some Speaker")) is None
    assert registry.driver_for_advertisement(adv(None, (uuid16(0x180F),))) is None


def test_first_matching_family_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    class Wide(EchoDriver):
        family = "wide"
        matchers = (AdvertisementMatcher(local_name="*"),)

    class Narrow(EchoDriver):
        family = "narrow"
        matchers = (AdvertisementMatcher(local_name="N-*"),)

    monkeypatch.setattr(registry, "DRIVERS", (Narrow, Wide))
    assert registry.driver_for_advertisement(adv("N-1")) is Narrow
    assert registry.driver_for_advertisement(adv("W-1")) is Wide
    monkeypatch.setattr(registry, "DRIVERS", (Wide, Narrow))
    assert registry.driver_for_advertisement(adv("N-1")) is Wide


def test_manifest_lists_every_matcher() -> None:
    manifest = json.loads(MANIFEST.read_text())
    expected = [m.as_manifest() for d in registry.DRIVERS for m in d.matchers]
    assert manifest["bluetooth"] == expected
