"""Every family has the same shape: the checklist of docs/adding-a-family.md."""

from __future__ import annotations

import json
import pkgutil
from pathlib import Path

import pytest

from bms_simulator.registry import DEMOS
from bms_simulator.serial.registry import WIRED_DEMOS
from custom_components.lithium_bms import protocol
from custom_components.lithium_bms.protocol.driver import BmsDriver
from custom_components.lithium_bms.protocol.registry import (
    CORE_PACKAGES,
    DRIVERS,
    WIRED_PROTOCOLS,
    driver_by_family,
)

ROOT = Path(__file__).parents[2]
DATA = Path(__file__).parent / "data"
FOLDERS = sorted(
    m.name
    for m in pkgutil.iter_modules(protocol.__path__)
    if m.ispkg and m.name not in CORE_PACKAGES
)
FILES = ("__init__.py", "frames.py", "stream.py", "driver.py")


def test_every_family_folder_is_a_registered_driver() -> None:
    assert sorted(driver.family for driver in DRIVERS) == FOLDERS
    orders = [driver.claim_order for driver in DRIVERS]
    assert orders == sorted(orders)
    assert len(set(orders)) == len(orders)


@pytest.mark.parametrize("family", FOLDERS)
def test_family_folder_has_the_same_files(family: str) -> None:
    folder = Path(protocol.__file__).parent / family
    assert all((folder / name).is_file() for name in FILES)


@pytest.mark.parametrize("family", FOLDERS)
def test_family_has_a_simulator(family: str) -> None:
    assert (ROOT / "bms_simulator" / "families" / f"{family}.py").is_file()
    if driver_by_family(family).matchers:
        assert family in DEMOS
    else:
        assert any(p.family == family for p in WIRED_PROTOCOLS)


@pytest.mark.parametrize("family", FOLDERS)
def test_family_has_sourced_vectors(family: str) -> None:
    vectors = json.loads((DATA / f"{family}_vectors.json").read_text())
    assert vectors
    assert all(v["source"] and v["hex"] for v in vectors)


@pytest.mark.parametrize("family", FOLDERS)
def test_family_has_advertisement_samples(family: str) -> None:
    if not driver_by_family(family).matchers:
        # Wired only (until its Bluetooth modules are added): nothing to match.
        assert any(p.family == family for p in WIRED_PROTOCOLS)
        return
    records = json.loads((DATA / "advertisements.json").read_text())["records"]
    assert any(r["family"] == family for r in records)


def test_wired_protocols_have_unique_keys_and_a_simulated_pack() -> None:
    keys = [p.key for p in WIRED_PROTOCOLS]
    assert len(set(keys)) == len(keys)
    assert sorted(WIRED_DEMOS) == sorted(keys)
    for wired in WIRED_PROTOCOLS:
        assert wired.addresses
        assert wired.reply_timeout > 0
        assert issubclass(wired.driver, BmsDriver)
        assert wired.family in FOLDERS


@pytest.mark.parametrize("family", FOLDERS)
def test_family_has_a_readme_row(family: str) -> None:
    readme = (ROOT / "README.md").read_text().lower()
    # By its folder name, or by its brand where the two differ (CBT Power).
    brand = driver_by_family(family).brand.lower() or family
    assert f"| **{family}" in readme or f"| **{brand}**" in readme


def test_core_packages_are_folders_that_are_no_family() -> None:
    core = {m.name for m in pkgutil.iter_modules(protocol.__path__) if m.ispkg}
    assert core >= CORE_PACKAGES
    assert not CORE_PACKAGES & {driver.family for driver in DRIVERS}
