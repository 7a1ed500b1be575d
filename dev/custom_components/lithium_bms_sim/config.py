"""The YAML configuration: which simulated devices run, and how they change."""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from typing import Any

import voluptuous as vol
from homeassistant.helpers import config_validation as cv

from bms_simulator.device import SimulatedBms
from bms_simulator.pack import PackModel
from bms_simulator.proxy import DEFAULT_SLOTS
from bms_simulator.registry import DEMOS
from bms_simulator.serial.registry import WIRED_DEMOS
from custom_components.lithium_bms.protocol.snapshot import Alarm

DOMAIN = "lithium_bms_sim"

CONF_ADDRESS = "address"
CONF_DEVICES = "devices"
CONF_DYNAMICS = "dynamics"
CONF_FAMILY = "family"
CONF_INTERVAL = "interval"
CONF_NAME = "name"
CONF_PACK = "pack"
CONF_SEED = "seed"
CONF_HEALTH = "health"
CONF_SLOTS = "slots"
CONF_SOURCE = "source"
CONF_SPEED = "speed"
CONF_WIRED = "wired"
CONF_PROTOCOL = "protocol"
CONF_PORT = "port"
CONF_ADDRESSES = "addresses"
CONF_CAN = "can"
CONF_CHANNEL = "channel"
CONF_MANUFACTURER = "manufacturer"
CONF_VERSION = "version"
CONF_JK_CELLS = "jk_cells"
CONF_JK_ADDRESS = "jk_address"

DEFAULT_SOURCE = "53:49:4D:00:00:01"


def mac_address(value: Any) -> str:
    """An upper-case ``AA:BB:CC:DD:EE:FF`` address."""
    text = str(value).upper()
    parts = text.split(":")
    if len(parts) != 6 or not all(
        len(p) == 2 and all(c in "0123456789ABCDEF" for c in p) for p in parts
    ):
        raise vol.Invalid(f"not a Bluetooth address: {value}")
    return text


def demo_address(family: str, index: int) -> str:
    """A stable made-up address for the ``index``-th device of a family."""
    digest = hashlib.sha256(f"{family}/{index}".encode()).digest()
    return ":".join(f"{b:02X}" for b in (0xC0, 0xDE, *digest[:4]))


_FLOATS = vol.All([vol.Coerce(float)], vol.Length(min=1))
_ALARMS = vol.All([vol.In([alarm.value for alarm in Alarm])], vol.Coerce(set))

PACK_SCHEMA = vol.Schema(
    {
        vol.Optional("cell_voltages"): _FLOATS,
        vol.Optional("current"): vol.Coerce(float),
        vol.Optional("soc"): vol.All(vol.Coerce(float), vol.Range(min=0, max=100)),
        vol.Optional("full_capacity"): vol.All(vol.Coerce(float), vol.Range(min=0.1)),
        vol.Optional("design_capacity"): vol.All(vol.Coerce(float), vol.Range(min=0.1)),
        vol.Optional("cycles"): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("temperatures"): _FLOATS,
        vol.Optional("mosfet_temperature"): vol.Coerce(float),
        vol.Optional("alarms"): _ALARMS,
        vol.Optional("charge_enabled"): cv.boolean,
        vol.Optional("discharge_enabled"): cv.boolean,
        vol.Optional("balancer_enabled"): cv.boolean,
        vol.Optional("balancing_cells"): vol.All(
            [vol.All(vol.Coerce(int), vol.Range(min=1))], vol.Coerce(set)
        ),
        vol.Optional("state_of_health"): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=100)
        ),
    }
)

DEVICE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_FAMILY): vol.In(sorted(DEMOS)),
        vol.Optional(CONF_ADDRESS): mac_address,
        vol.Optional(CONF_NAME): cv.string,
        vol.Optional(CONF_PACK, default={}): PACK_SCHEMA,
    }
)

DYNAMICS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_INTERVAL, default=5.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.5)
        ),
        vol.Optional(CONF_SPEED, default=1.0): vol.All(
            vol.Coerce(float), vol.Range(min=0)
        ),
        vol.Optional(CONF_SEED): vol.Coerce(int),
        # Pack health behaviour (a weaker cell, load steps, MOSFET heating,
        # rests with a standby drain); off keeps the plain cycle.
        vol.Optional(CONF_HEALTH, default=False): bool,
    }
)


WIRED_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_PROTOCOL, default="pace"): vol.In(sorted(WIRED_DEMOS)),
        vol.Optional(CONF_PORT, default=8899): cv.port,
        vol.Optional(CONF_ADDRESSES, default=[1, 2, 3]): vol.All(
            cv.ensure_list, [vol.All(vol.Coerce(int), vol.Range(min=0, max=247))]
        ),
    }
)


CAN_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_CHANNEL, default="lithium_bms_sim"): cv.string,
        vol.Optional(CONF_MANUFACTURER, default="PYLON"): vol.All(
            cv.string, vol.Length(min=1, max=8)
        ),
        # "1.3": the SMA / Victron frames 0x35A and 0x35F, and 0x379;
        # "jk": JK's own CAN frames, every cell included; "growatt": the
        # Growatt protocol (a Seplos pack's answer to a Growatt inverter).
        vol.Optional(CONF_VERSION, default="1.2"): vol.In(
            ("1.2", "1.3", "jk", "growatt")
        ),
        # JK's cell frames beside the Pylontech ones.
        vol.Optional(CONF_JK_CELLS, default=False): cv.boolean,
        # The JK BMS's CAN address (its IDs end in F4 plus this).
        vol.Optional(CONF_JK_ADDRESS, default=0): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=11)
        ),
    }
)


def can_bus(value: Any) -> dict[str, Any] | None:
    """Absent or ``false``: no simulated CAN bus; empty or ``true``: the defaults."""
    if value is None or isinstance(value, bool):
        return CAN_SCHEMA({}) if value is True else None
    result: dict[str, Any] = CAN_SCHEMA(value)
    return result


def wired(value: Any) -> dict[str, Any] | None:
    """Absent or ``false``: no simulated bus; empty or ``true``: the defaults."""
    if value is None or isinstance(value, bool):
        return WIRED_SCHEMA({}) if value is True else None
    result: dict[str, Any] = WIRED_SCHEMA(value)
    return result


def dynamics(value: Any) -> dict[str, Any] | None:
    """``false`` turns the dynamics off; empty or ``true`` keeps the defaults."""
    if value is None or isinstance(value, bool):
        return DYNAMICS_SCHEMA({}) if value is not False else None
    result: dict[str, Any] = DYNAMICS_SCHEMA(value)
    return result


def with_addresses(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every device an address, and refuse an address used twice."""
    per_family: Counter[str] = Counter()
    resolved = []
    for device in devices:
        family = device[CONF_FAMILY]
        address = device.get(CONF_ADDRESS) or demo_address(family, per_family[family])
        per_family[family] += 1
        resolved.append({**device, CONF_ADDRESS: address})
    addresses = [d[CONF_ADDRESS] for d in resolved]
    if len(set(addresses)) != len(addresses):
        raise vol.Invalid("two simulated devices have the same address")
    return resolved


def one_of_each_family() -> list[dict[str, Any]]:
    """The default: one demo device of every simulated family."""
    return [{CONF_FAMILY: family, CONF_PACK: {}} for family in DEMOS]


def enough_slots(conf: dict[str, Any]) -> dict[str, Any]:
    """Without a configured number: 3 slots, or one per device if more."""
    if CONF_SLOTS not in conf:
        conf = {**conf, CONF_SLOTS: max(DEFAULT_SLOTS, len(conf[CONF_DEVICES]))}
    return conf


CONFIG_SCHEMA = vol.Schema(
    {
        DOMAIN: vol.All(
            vol.Schema(
                {
                    vol.Optional(CONF_SOURCE, default=DEFAULT_SOURCE): mac_address,
                    vol.Optional(CONF_SLOTS): vol.All(
                        vol.Coerce(int), vol.Range(min=1)
                    ),
                    vol.Optional(CONF_DYNAMICS, default=None): dynamics,
                    vol.Optional(CONF_WIRED, default=False): wired,
                    vol.Optional(CONF_CAN, default=False): can_bus,
                    vol.Optional(CONF_DEVICES, default=one_of_each_family): vol.All(
                        cv.ensure_list, [DEVICE_SCHEMA], with_addresses
                    ),
                }
            ),
            enough_slots,
        )
    },
    extra=vol.ALLOW_EXTRA,
)


def apply_pack(pack: PackModel, values: dict[str, Any]) -> None:
    """Overwrite pack fields with configured values (copied, never shared)."""
    for key, value in values.items():
        setattr(pack, key, copy.copy(value))


def build_device(conf: dict[str, Any]) -> SimulatedBms:
    """A family's demo device at the configured address, with overrides."""
    device = DEMOS[conf[CONF_FAMILY]](conf[CONF_ADDRESS])
    if CONF_NAME in conf:
        device.advertising.name = conf[CONF_NAME]
    apply_pack(device.pack, conf[CONF_PACK])
    return device
