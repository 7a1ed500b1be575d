"""The ``family`` fixture: every family and variant, set up behind the proxy.

Each platform's tests run once per case below. A case builds the same pack
model in its family's simulator, so the snapshots differ only where the
protocols do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.amber import AmberSnapshotExtension
from syrupy.location import PyTestLocation

from bms_simulator.device import SimulatedBms
from bms_simulator.families.abc import AbcSimulator
from bms_simulator.families.ant import AntSimulator
from bms_simulator.families.ant_legacy import AntLegacySimulator
from bms_simulator.families.braunpwr import BraunPowerSimulator
from bms_simulator.families.buknuwo import BuknuwoSimulator
from bms_simulator.families.cbtpwr import CbtPowerClassic, CbtPowerVb
from bms_simulator.families.daly import DalySimulator
from bms_simulator.families.ecoworthy import EcoworthySimulator
from bms_simulator.families.eg4 import Eg4Ble
from bms_simulator.families.ej import EjSimulator, Variant
from bms_simulator.families.felicity import FelicityBattery
from bms_simulator.families.gobel import GobelSimulator
from bms_simulator.families.humsienk import HumsienkSimulator
from bms_simulator.families.jbd import DarenSimulator, JbdSimulator
from bms_simulator.families.jk import JkLayout, JkSimulator
from bms_simulator.families.myvolta import MyvoltaSimulator
from bms_simulator.families.neey import NeeySimulator
from bms_simulator.families.ogt import OgtSimulator
from bms_simulator.families.pace import PaceBle
from bms_simulator.families.pwrboozt import PwrbooztSimulator
from bms_simulator.families.pylontech import PylontechRt
from bms_simulator.families.redodo import RedodoSimulator
from bms_simulator.families.renogy import RenogyBattery
from bms_simulator.families.roypow import RoyPowSimulator
from bms_simulator.families.saihang import SaihangSimulator
from bms_simulator.families.seplos import SeplosV3Ble
from bms_simulator.families.seplos_v2_ble import SeplosV2Ble
from bms_simulator.families.superb import SuperbSimulator
from bms_simulator.families.tdt import TdtSimulator
from bms_simulator.families.tianpwr import TianpwrSimulator
from bms_simulator.families.topband import TopbandSimulator
from bms_simulator.families.vatrer import VatrerBms
from bms_simulator.pack import PackModel
from custom_components.lithium_bms.protocol.daly.driver import DalyDriver
from custom_components.lithium_bms.protocol.jk import JkDriver

from ..conftest import setup_entry

JK_PERIOD = 0.05  # seconds between streamed JK frames


def pack_model() -> PackModel:
    """The pack every case encodes: 8 cells, discharging, one cell balancing."""
    return PackModel(
        cell_voltages=[3.301, 3.312, 3.325, 3.298, 3.305, 3.31, 3.299, 3.307],
        current=-12.5,
        soc=67,
        full_capacity=100.0,
        design_capacity=100.0,
        cycles=42,
        temperatures=[18.5, 19.5, 20.5],
        mosfet_temperature=27.0,
        balancing_cells={2},
        state_of_health=96,
    )


def _jbd() -> SimulatedBms:
    return JbdSimulator("A4:C1:37:00:11:22", "JBD-SP08S020", pack_model())


def _daren() -> SimulatedBms:
    return DarenSimulator("3C:8A:1F:00:11:22", "DWF3C8A1F7C1235", pack_model())


def _jk(layout: JkLayout) -> Callable[[], SimulatedBms]:
    def build() -> SimulatedBms:
        sim = JkSimulator("C8:47:8C:12:34:56", "JK-BMS", pack_model(), layout=layout)
        sim.period = JK_PERIOD
        sim.balance_current = 0.123
        return sim

    return build


def _daly(mode: str) -> Callable[[], SimulatedBms]:
    def build() -> SimulatedBms:
        return DalySimulator("B4:E8:42:6A:00:01", pack=pack_model(), mode=mode)

    return build


def _seplos() -> SimulatedBms:
    return SeplosV3Ble("C0:D6:3C:00:11:22", "SP05B2312190075", pack_model())


def _seplos_v2() -> SimulatedBms:
    return SeplosV2Ble("60:6E:41:00:11:22", "BP00", pack_model())


def _eg4() -> SimulatedBms:
    return Eg4Ble("80:6F:B0:00:11:22", "Z122002264", pack_model())


def _pace_ble() -> SimulatedBms:
    return PaceBle("C0:D6:3C:00:96:62", "PC-9662", pack_model())


def _pylontech() -> SimulatedBms:
    return PylontechRt("A4:C1:38:00:11:22", "RT24100-000001", pack_model())


def _gobel() -> SimulatedBms:
    return GobelSimulator("04:D8:10:00:11:22", "BMS-4056911A1100032P", pack_model())


def _renogy(variant: str, name: str, address: str) -> Callable[[], SimulatedBms]:
    def build() -> SimulatedBms:
        return RenogyBattery(address, name, pack_model(), variant=variant)

    return build


def _vatrer(variant: str, name: str) -> Callable[[], SimulatedBms]:
    def build() -> SimulatedBms:
        return VatrerBms("5A:48:65:00:11:22", name, pack_model(), variant=variant)

    return build


def _ant() -> SimulatedBms:
    return AntSimulator("88:A0:80:00:11:22", "ANT-BLE24CHUB-0001", pack_model())


def _ant_legacy() -> SimulatedBms:
    return AntLegacySimulator("AA:BB:CC:00:11:22", "ANT-BLE16S", pack_model())


def _redodo() -> SimulatedBms:
    return RedodoSimulator("C8:47:80:00:11:22", "R-24100BNN160-A00643", pack_model())


def _abc() -> SimulatedBms:
    return AbcSimulator("D6:6C:0A:00:11:22", "SOK-AA02120", pack_model())


def _tianpwr() -> SimulatedBms:
    return TianpwrSimulator("90:A6:BF:00:11:22", "TP_123456", pack_model())


def _braunpwr() -> SimulatedBms:
    return BraunPowerSimulator("24:19:72:00:11:22", "HSKS-25A-118", pack_model())


def _pwrboozt(*, doerr: bool) -> Callable[[], SimulatedBms]:
    def build() -> SimulatedBms:
        return PwrbooztSimulator(
            "00:25:07:00:11:22", "BT-Battery", pack_model(), doerr=doerr
        )

    return build


def _humsienk() -> SimulatedBms:
    return HumsienkSimulator("13:C2:A7:00:11:22", "HS1122", pack_model())


def _topband() -> SimulatedBms:
    sim = TopbandSimulator("30:55:44:00:11:22", "NWJ20221223010330", pack_model())
    sim.period = JK_PERIOD
    return sim


def _powerxtreme() -> SimulatedBms:
    """A PowerXtreme X210 as BMS_BLE-HA #769 shows it: "Moby", iBeacon."""
    sim = TopbandSimulator("DC:0D:30:00:31:37", "Moby", pack_model(), powerxtreme=True)
    sim.period = JK_PERIOD
    return sim


def _superb() -> SimulatedBms:
    sim = SuperbSimulator("60:8A:10:00:11:22", "Epsilon-201007664", pack_model())
    sim.period = JK_PERIOD
    return sim


def _saihang() -> SimulatedBms:
    return SaihangSimulator("A2:51:22:00:11:22", "SH24100-H-00069", pack_model())


def _myvolta() -> SimulatedBms:
    sim = MyvoltaSimulator("E8:EB:1B:00:11:22", "VPS-197B", pack_model())
    sim.period = JK_PERIOD
    return sim


def _buknuwo() -> SimulatedBms:
    return BuknuwoSimulator("82:FF:00:00:11:22", "MEY-12320-A00898", pack_model())


def _felicity() -> SimulatedBms:
    return FelicityBattery("A8:17:10:00:11:22", "F100011002400000002", pack_model())


def _cbtpwr() -> SimulatedBms:
    return CbtPowerClassic("38:AB:41:00:11:22", "170R000121", pack_model())


def _cbtpwr_vb() -> SimulatedBms:
    return CbtPowerVb("F8:2E:0C:00:11:22", "VB024000390", pack_model())


def _ej(variant: Variant, name: str) -> Callable[[], SimulatedBms]:
    def build() -> SimulatedBms:
        return EjSimulator("02:00:07:00:11:22", name, pack_model(), variant=variant)

    return build


def _tdt() -> SimulatedBms:
    return TdtSimulator("C0:D6:3C:00:33:44", "XDZN_001_3344", pack_model())


def _roypow() -> SimulatedBms:
    return RoyPowSimulator("12:6C:14:00:11:22", " B24100A 220600016 ", pack_model())


def _ecoworthy() -> SimulatedBms:
    sim = EcoworthySimulator("E2:E0:5A:00:11:22", "ECO-WORTHY 0B_1122", pack_model())
    sim.period = JK_PERIOD  # the stream's interval, as short as JK's
    return sim


def _neey(model: str) -> Callable[[], SimulatedBms]:
    def build() -> SimulatedBms:
        return NeeySimulator("A4:C1:38:00:11:22", model, pack_model(), model=model)

    return build


def _ogt(name: str) -> Callable[[], SimulatedBms]:
    def build() -> SimulatedBms:
        return OgtSimulator("5C:53:10:00:11:22", name, pack_model())

    return build


@dataclass(frozen=True)
class FamilyCase:
    """One family (and variant) as a test sees it."""

    name: str
    family: str
    build: Callable[[], SimulatedBms]
    switches: tuple[str, ...]
    alarms: bool = True  # whether the variant reports protection alarms
    cells: bool = True  # whether it reports each cell's voltage
    # An alarm the variant reports (what the alarm test raises).
    alarm: str = "cell_undervoltage"
    options: dict[str, Any] = field(default_factory=dict)
    # A new cell 1 voltage and how its sensor shows it (the cell resolution).
    changed_cell: tuple[float, str] = (3.401, "3.401")
    # Without cells: the pack voltage that change shows (its resolution).
    changed_voltage: str = "26.56"


CASES = (
    FamilyCase("jbd", "jbd", _jbd, ("charge_mosfet", "discharge_mosfet")),
    FamilyCase("jbd_daren", "jbd", _daren, ("charge_mosfet", "discharge_mosfet")),
    FamilyCase(
        "jk02_32s",
        "jk",
        _jk(JkLayout.JK02_32S),
        ("charge_mosfet", "discharge_mosfet", "balancer"),
    ),
    FamilyCase(
        "jk02_24s",
        "jk",
        _jk(JkLayout.JK02_24S),
        ("charge_mosfet", "discharge_mosfet", "balancer"),
    ),
    FamilyCase("jk04", "jk", _jk(JkLayout.JK04), ("balancer",), alarms=False),
    FamilyCase(
        "daly_d2",
        "daly",
        _daly("d2"),
        ("charge_mosfet", "discharge_mosfet", "balancer"),
    ),
    FamilyCase("daly_a5", "daly", _daly("a5"), ("charge_mosfet", "discharge_mosfet")),
    FamilyCase("daly_p81", "daly", _daly("p81"), (), alarms=False),
    FamilyCase("seplos_v3", "seplos", _seplos, ()),
    FamilyCase("seplos_v2_ble", "seplos", _seplos_v2, ()),
    FamilyCase("eg4", "eg4", _eg4, ()),
    FamilyCase("pace_ble", "pace", _pace_ble, (), alarms=False),
    FamilyCase("pylontech", "pylontech", _pylontech, (), alarms=False, cells=False),
    # Its status registers have no public bit table: no named alarm.
    FamilyCase("gobel", "gobel", _gobel, (), alarms=False),
    FamilyCase(
        "renogy",
        "renogy",
        _renogy("classic", "BT-TH-66EDFC11", "60:98:66:00:11:22"),
        (),
        changed_cell=(3.5, "3.5"),
    ),
    FamilyCase(
        "renogy_pro",
        "renogy",
        _renogy("pro", "RNGRBP1228000830", "4C:E1:74:00:11:22"),
        (),
        changed_cell=(3.5, "3.5"),
    ),
    FamilyCase("redodo", "redodo", _redodo, (), alarm="pack_undervoltage"),
    FamilyCase("ant", "ant", _ant, ("charge_mosfet", "discharge_mosfet", "balancer")),
    FamilyCase(
        "ant_legacy", "ant_legacy", _ant_legacy, ("charge_mosfet", "discharge_mosfet")
    ),
    FamilyCase("humsienk", "humsienk", _humsienk, (), alarm="pack_undervoltage"),
    # A problem code without a public bit table: no named alarm. PowerXtreme
    # speaks the same protocol on its own service.
    FamilyCase("topband", "topband", _topband, (), alarms=False),
    FamilyCase("topband_powerxtreme", "topband", _powerxtreme, (), alarms=False),
    # Its fault and warning words have no public bit table: no named alarm.
    FamilyCase("felicity", "felicity", _felicity, (), alarms=False),
    # A problem code without a public bit table: no named alarm.
    FamilyCase("braunpwr", "braunpwr", _braunpwr, (), alarms=False),
    # Its protection reply has no public bit table and is not read: no alarm.
    FamilyCase("abc", "abc", _abc, (), alarms=False),
    # No public bit table of the problem word: no named alarm.
    FamilyCase("cbtpwr", "cbtpwr", _cbtpwr, (), alarms=False),
    FamilyCase("cbtpwr_vb", "cbtpwr", _cbtpwr_vb, (), alarms=False),
    # Its status bits have no public table: no named alarm.
    FamilyCase("ej", "ej", _ej(Variant.TWO_FRAME, "L-12V100AH-0001"), (), alarms=False),
    FamilyCase(
        "ej_single_frame",
        "ej",
        _ej(Variant.SINGLE_FRAME, "G-24V100Ah-0001"),
        (),
        alarms=False,
    ),
    FamilyCase("tdt", "tdt", _tdt, ()),
    # Its problem code has no public bit table: no named alarm.
    FamilyCase("roypow", "roypow", _roypow, (), alarms=False),
    # Its problem code has no public bit table: no named alarm.
    FamilyCase("ecoworthy", "ecoworthy", _ecoworthy, (), alarms=False),
    # A balancer without a current sensor (GW-), and an EK-B model with one.
    FamilyCase("neey", "neey", _neey("GW-24S4EB"), ("balancer",)),
    FamilyCase("neey_ek_b", "neey", _neey("EK-B24S8E200A"), ("balancer",)),
    # Dörr: the same protocol on FFF6 (the driver's second GATT profile).
    FamilyCase(
        "pwrboozt", "pwrboozt", _pwrboozt(doerr=False), (), alarm="pack_undervoltage"
    ),
    FamilyCase(
        "pwrboozt_doerr",
        "pwrboozt",
        _pwrboozt(doerr=True),
        (),
        alarm="pack_undervoltage",
    ),
    # A problem code without a public bit table: no named alarm. The C4S100
    # speaks the same table in one read.
    FamilyCase(
        "vatrer", "vatrer", _vatrer("vatrer", "250320512100045"), (), alarms=False
    ),
    FamilyCase(
        "vatrer_c4s", "vatrer", _vatrer("c4s", "C4S100IE06007"), (), alarms=False
    ),
    # No alarm in the register map; type A reports no cell.
    FamilyCase("ogt", "ogt", _ogt("SmartBat-B15051"), (), alarms=False),
    FamilyCase(
        "ogt_type_a",
        "ogt",
        _ogt("SmartBat-A42491"),
        (),
        alarms=False,
        cells=False,
        changed_voltage="26.557",
    ),
    # Named alarms from esphome-tianpower-bms' protection bit tables.
    FamilyCase("tianpwr", "tianpwr", _tianpwr, ()),
    # Flags bit 0 is the only protection state; no cells in the frame.
    FamilyCase(
        "superb",
        "superb",
        _superb,
        (),
        alarms=False,
        cells=False,
        changed_voltage="26.557",
    ),
    # A problem code without a public bit table: no named alarm.
    FamilyCase("saihang", "saihang", _saihang, (), alarms=False),
    # A problem code without a bit table the sources agree on: no named alarm.
    FamilyCase("myvolta", "myvolta", _myvolta, (), alarms=False),
    # Its status registers have no public bit table; no cells in its reads.
    FamilyCase("buknuwo", "buknuwo", _buknuwo, (), alarms=False, cells=False),
)
SWITCH_ATTRIBUTES = {
    "charge_mosfet": "charge_enabled",
    "discharge_mosfet": "discharge_enabled",
    "balancer": "balancer_enabled",
}


@dataclass
class FamilySetup:
    """A simulated device of one case, hosted on the proxy, and its entry."""

    case: FamilyCase
    device: SimulatedBms
    hass: HomeAssistant

    async def setup(self) -> MockConfigEntry:
        """Add and set up the config entry."""
        return await setup_entry(
            self.hass, self.device, self.case.family, self.case.options
        )

    async def device_settles(self) -> None:
        """Let a streaming device send frames built after a change to its pack.

        A device that answers requests shows the change in its next answer; a
        hung stream sends nothing, so two of its periods pass (real time).
        """
        if not self.device.stream_ticks:
            return
        if self.device.hung:
            await asyncio.sleep(JK_PERIOD * 2)
        else:
            await self.device.stream_advances()

    def entity_id(self, platform: str, key: str) -> str:
        """The entity id of one entity key on this device."""
        registry = er.async_get(self.hass)
        found = registry.async_get_entity_id(
            platform, "lithium_bms", f"{self.device.address}_{key}"
        )
        assert found is not None, f"{platform} {key}"
        return found

    def state(self, platform: str, key: str) -> str:
        """The state of one entity key."""
        current = self.hass.states.get(self.entity_id(platform, key))
        assert current is not None, key
        return current.state


@pytest.fixture(autouse=True)
def fast_family_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short settle and probe delays for the families that have them."""
    monkeypatch.setattr(JkDriver, "confirm_delay", 0.01)
    monkeypatch.setattr(JkDriver, "pause_timeout", 0.02)
    for name, value in {
        "first_probe_timeout": 0.5,
        "probe_timeout": 0.3,
        "ack_timeout": 0.2,
        "confirm_delay": 0.01,
    }.items():
        monkeypatch.setattr(DalyDriver, name, value)


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
async def family(
    request: pytest.FixtureRequest,
    without_kegtron_and_ibeacon: None,
    hass: HomeAssistant,
    add_device: Callable[[SimulatedBms], Any],
) -> FamilySetup:
    """Each family and variant in turn, advertised through the proxy.

    Kegtron and iBeacon match Topband's and PowerXtreme's advertisements
    too: their flows are kept out (tests/conftest.py).
    """
    case: FamilyCase = request.param
    device = case.build()
    await add_device(device)
    return FamilySetup(case, device, hass)


@pytest.fixture
def only_platform(request: pytest.FixtureRequest) -> Iterator[None]:
    """Load just the platform of the test module (``PLATFORM`` in it)."""
    platform: Platform = request.module.PLATFORM
    with patch("custom_components.lithium_bms.PLATFORMS", [platform]):
        yield


class PlatformSnapshot(AmberSnapshotExtension):
    """Plain data in ``snapshots/`` beside the test, on every syrupy we run."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """The folder of the snapshot files."""
        return str(Path(test_location.filepath).parent / "snapshots")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots of plain data (see ``entity_snapshot``)."""
    return snapshot.use_extension(PlatformSnapshot)


def plain(value: Any) -> Any:
    """An enum as its value: newer Home Assistant has enums where older had text."""
    return value.value if isinstance(value, Enum) else value


def entity_snapshot(
    hass: HomeAssistant, entry: MockConfigEntry
) -> list[dict[str, Any]]:
    """Each entity of the entry: its registry entry's contract and its state.

    Only the fields we define are kept, as plain values, so the snapshot reads
    the same on every Home Assistant version we test on.
    """
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    assert entities, "the platform created no entity"
    snapshot = []
    for entity in sorted(entities, key=lambda e: e.entity_id):
        state = hass.states.get(entity.entity_id)
        snapshot.append(
            {
                "entity_id": entity.entity_id,
                "key": entity.unique_id.removeprefix(f"{entry.unique_id}_"),
                "translation_key": entity.translation_key,
                "device_class": plain(entity.original_device_class),
                "unit": plain(entity.unit_of_measurement),
                "entity_category": plain(entity.entity_category),
                "disabled_by": plain(entity.disabled_by),
                "state": None if state is None else state.state,
                "attributes": None
                if state is None
                else {plain(k): plain(v) for k, v in state.attributes.items()},
            }
        )
    return snapshot
