"""Discovery against real advertisements: recall per family, no false claims."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from custom_components.lithium_bms.protocol.daly import DalyDriver
from custom_components.lithium_bms.protocol.jbd import JbdDriver
from custom_components.lithium_bms.protocol.matching import (
    Advertisement,
    AdvertisementMatcher,
    uuid16,
)
from custom_components.lithium_bms.protocol.registry import (
    DRIVERS,
    driver_by_family,
    driver_for_advertisement,
)
from custom_components.lithium_bms.protocol.seplos import SeplosDriver

CORPUS = Path(__file__).parent / "data" / "advertisements.json"
# Families that claim advertisements (a wired-only family has no matchers yet).
OURS = {driver.family for driver in DRIVERS if driver.matchers}
FF00 = uuid16(0xFF00)
# What the corpus shows today; a matcher change must not lower it. The misses
# are named in test_known_misses.
RECALL_FLOOR = {
    "jbd": 1.0,
    "jk": 5 / 7,
    "daly": 9 / 10,
    "seplos": 1.0,
    "eg4": 1.0,
    "pace": 1.0,
    "pylontech": 1.0,
    "gobel": 1.0,
    "renogy": 1.0,
    "redodo": 1.0,
    "topband": 1.0,
    "felicity": 1.0,
    "cbtpwr": 1.0,
    "ej": 1.0,
    "tdt": 1.0,
    "roypow": 1.0,
    "ecoworthy": 1.0,
    "neey": 1.0,
    "braunpwr": 1.0,
    "ant": 1.0,
    "ant_legacy": 1.0,
    "pwrboozt": 1.0,
    "humsienk": 1.0,
    "abc": 1.0,
    "vatrer": 1.0,
    "ogt": 1.0,
    "tianpwr": 1.0,
    "superb": 1.0,
    "saihang": 1.0,
    "myvolta": 1.0,
    "buknuwo": 1.0,
}


def _records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(CORPUS.read_text())["records"]
    return records


def _address(record: dict[str, Any]) -> str:
    return record["address"] or "00:00:00:00:00:00"


def _advertisement(record: dict[str, Any]) -> Advertisement:
    """As Home Assistant hands it over: without a local name, the address."""
    return Advertisement(
        address=_address(record),
        name=record["name"] or _address(record),
        service_uuids=tuple(record["service_uuids"]),
        manufacturer_data={
            int(company): bytes.fromhex(payload)
            for company, payload in record["manufacturer_data"].items()
        },
        service_data={
            uuid: bytes.fromhex(payload)
            for uuid, payload in record["service_data"].items()
        },
    )


def _claimants(record: dict[str, Any]) -> set[str]:
    adv = _advertisement(record)
    return {driver.family for driver in DRIVERS if driver.claims(adv)}


def _recall() -> dict[str, float]:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for record in _records():
        if record["family"] in OURS:
            total[record["family"]] += 1
            driver = driver_for_advertisement(_advertisement(record))
            found[record["family"]] += driver is not None and (
                driver.family == record["family"]
            )
    return {family: found[family] / total[family] for family in total}


def test_corpus_is_sourced_and_varied() -> None:
    records = _records()
    for record in records:
        assert record["source"], record
        assert record["family"], record
    families = Counter(record["family"] for record in records)
    # Families with fewer than 5 public advertisements (what was searched).
    FEW_PUBLIC = {  # noqa: N806
        "eg4": 3,  # aiobmsble eg4_bms.json, BMS_BLE-HA #509 #616 #699, aiobmsble #48
        # aiobmsble pace_bms.json (BMS_BLE-HA #521); none in BMS_BLE-HA #47,
        # PR #534, aiobmsble #17, #59, #259, batmon-ha #276, #332.
        "pace": 1,
        # aiobmsble pylontech_bms.json and docs, BMS_BLE-HA issues, code search
        "pylontech": 1,
        # aiobmsble test_data/gobel_bms.json (0.31.0: 3 records), BMS_BLE-HA
        # issues #749 and #775 (Dyness AR1.2), aiobmsble PR #128.
        "gobel": 3,
        # aiobmsble test_data/felicity_bms.json (BMS_BLE-HA #161, #466); the
        # SolarB_ names of newer firmware (BMS_BLE-HA #801, batmon-ha #415)
        # come with no reply that shows they speak this protocol.
        "felicity": 2,
        # aiobmsble test_data/tdt_bms.json, BMS_BLE-HA #315, #730, #815; none
        # with advertisement data in BMS_BLE-HA #102, #356, #400, #798, #807.
        "tdt": 4,
        # aiobmsble test_data/neey_bms.json (BMS_BLE-HA #291, #454); none with
        # advertisement data in syssi/esphome-jk-bms #444, #950, PR #452.
        "neey": 4,
        # aiobmsble test_data/braunpwr_bms.json (BMS_BLE-HA #303, #613); none
        # with advertisement data in batmon-ha #375 or aiobmsble PR #251.
        "braunpwr": 3,
        # aiobmsble test_data/ant_bms.json (BMS_BLE-HA #366, #675) and
        # batmon-ha doc/ANT-BMS-BLE.md; #668's module speaks the legacy one.
        "ant": 3,
        # aiobmsble test_data/ant_leg_bms.json (with #668 since PR #220) and
        # esphome-ant-bms #61; none with advertisement data in esphome-ant-bms
        # #48, kolins-cz/Smart-BMS-Bluetooth-ESP32 #4 or bres55 #14.
        "ant_legacy": 3,
        # aiobmsble test_data/pwrboozt_bms.json (BMS_BLE-HA #452) and
        # doerrpwr_bms.json (BMS_BLE-HA #792): one PowerBoozt, one Dörr.
        "pwrboozt": 2,
        # aiobmsble test_data/humsienk_bms.json (aiobmsble #65, #317, PR #209,
        # BMS_BLE-HA #282); none in an issue search for Humsienk / BMC.
        "humsienk": 4,
        # aiobmsble test_data/abc_bms.json (BMS_BLE-HA #168, #394); none with
        # advertisement data found in BMS_BLE-HA #743 (GATT tables) or
        # dbus-serialbattery #350 (the commands).
        "abc": 2,
        # aiobmsble test_data/vatrer_bms.json (BMS_BLE-HA #492) and
        # c4s_bms.json (aiobmsble PR #267); the other Vatrer packs in
        # BMS_BLE-HA #329, #373, #506 and aiobmsble PR #37 advertise JBD's
        # FF00 and are JBD's to claim.
        "vatrer": 2,
        # aiobmsble test_data/ogt_bms.json (a log); BMS_BLE-HA #2 names a
        # SmartBat-A42491 but shows no advertisement data.
        "ogt": 1,
        # aiobmsble test_data/tianpwr_bms.json (BMS_BLE-HA #412); the
        # syssi/esphome-tianpower-bms README names the TP_123456 pattern only.
        "tianpwr": 1,
        # aiobmsble test_data/superb_bms.json (BMS_BLE-HA #518, #609); the
        # Epsilon V2 records (#546, #813) are the second generation's.
        "superb": 2,
        # aiobmsble test_data/saihang_bms.json (BMS_BLE-HA #655) and
        # BMS_BLE-HA #703; #483 shows an Anenji pack without name or service.
        "saihang": 2,
        # aiobmsble test_data/myvolta_bms.json (BMS_BLE-HA #673); no other
        # advertisement found in an issue search for MyVolta / VPS.
        "myvolta": 1,
        # aiobmsble test_data/buknuwo_bms.json (BMS_BLE-HA #621, #816).
        "buknuwo": 2,
    }
    assert all(families[family] >= FEW_PUBLIC.get(family, 5) for family in OURS), (
        families
    )
    others_on_ff00 = [
        r for r in records if r["family"] != "jbd" and FF00 in r["service_uuids"]
    ]
    assert len(others_on_ff00) >= 10
    assert len(families) >= 20


def _false_claimants(record: dict[str, Any]) -> list[str]:
    """The families that would take the record's device from its own.

    Every claimant of a device of another brand; for a device of ours, a
    claimant tried before its own family. One tried later never sees it: the
    first claim in the order decides, in discovery and in the flow alike.
    """
    own = record["family"]
    first = driver_by_family(own).claim_order if own in OURS else math.inf
    return sorted(
        family
        for family in _claimants(record) - {own}
        if driver_by_family(family).claim_order < first
    )


def test_no_false_claims() -> None:
    wrong = [
        (record["family"], record["name"], claimants)
        for record in _records()
        if (claimants := _false_claimants(record))
    ]
    assert wrong == []


def test_recall_per_family() -> None:
    recall = _recall()
    for family, floor in RECALL_FLOOR.items():
        assert recall[family] >= floor, (family, recall)


def test_known_misses() -> None:
    missed = sorted(
        (record["family"], record["source"].rsplit("/", 1)[-1])
        for record in _records()
        if record["family"] in OURS and not _claimants(record)
    )
    # JK: a proxy merged FEE7 and FFE0 into one malformed UUID (BMS_BLE-HA
    # #263, #269, #353). Daly: company ID 262 with no name, seen once (#806).
    assert missed == [("daly", "806"), ("jk", "269"), ("jk", "353")]


def test_seplos_v2_and_other_ff00_brands_are_not_jbd() -> None:
    v2 = [r for r in _records() if r.get("variant") == "v2"]
    assert len(v2) == 4
    for record in _records():
        if record in v2 or record["family"] in {"humsienk", "braunpwr"}:
            assert not JbdDriver.claims(_advertisement(record)), record


def test_seplos_v2_is_told_from_jbd_on_ff00() -> None:
    for record in _records():
        claimant = driver_for_advertisement(_advertisement(record))
        if record.get("variant") == "v2":
            assert claimant is SeplosDriver, record
        elif record["family"] == "jbd":
            assert claimant is JbdDriver, record


def test_jbd_needs_a_name_or_an_oui_with_ff00() -> None:
    assert JbdDriver.claims(Advertisement("A4:C1:37:12:34:56", "kon_up", (FF00,)))
    assert JbdDriver.claims(Advertisement("a5:c2:37:12:34:56", None, (FF00,)))
    assert JbdDriver.claims(Advertisement("11:22:33:44:55:66", "SP04S034", (FF00,)))
    assert JbdDriver.claims(Advertisement("11:22:33:44:55:66", "JBD-DH04SC02"))
    assert not JbdDriver.claims(Advertisement("11:22:33:44:55:66", "BP02", (FF00,)))
    assert not JbdDriver.claims(Advertisement("A4:C1:37:12:34:56", "kon_up"))
    assert not JbdDriver.claims(
        Advertisement("11:22:33:44:55:66", "SP05B2312190075", (uuid16(0xFFF0),))
    )


def test_jbd_company_id_equal_to_a_daly_id_stays_jbd() -> None:
    # A JBD module's company ID is the last two MAC bytes (aiobmsble
    # test_data/jbd_bms.json): MAC ...:01:02 gives 258, one of Daly's IDs.
    adv = Advertisement(
        "A4:C1:37:41:01:02", "kon_up", (FF00,), {258: bytes.fromhex("4137c1a4")}
    )
    assert DalyDriver.claims(adv)
    assert driver_for_advertisement(adv) is JbdDriver


def test_the_absence_of_service_data_stays_out_of_the_manifest() -> None:
    matcher = AdvertisementMatcher(service_uuid=FF00, without_service_data=True)
    assert matcher.as_manifest() == {"service_uuid": FF00, "connectable": True}
    assert matcher.matches(Advertisement("A4:C1:37:00:00:01", None, (FF00,)))
    assert not matcher.matches(
        Advertisement("A4:C1:37:00:00:01", None, (FF00,), service_data={FF00: b"1"})
    )


def test_address_prefixes_stay_out_of_the_manifest() -> None:
    matcher = AdvertisementMatcher(service_uuid=FF00, address_prefixes=("A4:C1:37",))
    assert matcher.as_manifest() == {"service_uuid": FF00, "connectable": True}
    assert matcher.matches(Advertisement("A4:C1:37:00:00:01", None, (FF00,)))
    assert not matcher.matches(Advertisement("A4:C1:38:00:00:01", None, (FF00,)))


def test_local_names_start_with_three_literal_characters() -> None:
    # Home Assistant looks local-name matchers up by their first 3 characters,
    # taken literally (homeassistant/components/bluetooth/match.py): a pattern
    # such as "N-?????BL*" would never match there.
    for driver in DRIVERS:
        for matcher in driver.matchers:
            if matcher.local_name is not None:
                assert not set(matcher.local_name[:3]) & set("*?["), matcher


def test_home_assistant_wakes_us_for_every_claimed_device() -> None:
    """Every device a family claims matches the manifest in HA's own matcher."""
    match = pytest.importorskip("homeassistant.components.bluetooth.match")
    index = match.BluetoothMatcherIndex()
    for driver in DRIVERS:
        for matcher in driver.matchers:
            index.add({"domain": "lithium_bms", **matcher.as_manifest()})
    index.build()
    for record in _records():
        adv = _advertisement(record)
        info = SimpleNamespace(
            name=adv.name,
            address=adv.address,
            connectable=True,
            service_uuids=list(adv.service_uuids),
            service_data=dict(adv.service_data or {}),
            manufacturer_data=dict(adv.manufacturer_data or {}),
        )
        if _claimants(record):
            assert index.match(info), record
