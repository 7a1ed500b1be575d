"""The config-flow parts of a CAN bus: the form and the few seconds of listening."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers import selector

from ..const import (
    CONF_CAN_BITRATE,
    CONF_CAN_CHANNEL,
    CONF_CAN_INTERFACE,
    CONF_CAN_JK_ADDRESS,
    CONF_KIND,
    KIND_CAN,
)
from ..protocol.can.errors import (
    CanAdapterError,
    CanBusyError,
    CanNotFoundError,
    CanPermissionError,
    CanUnavailableError,
)
from ..protocol.can.transport import INTERFACES, CanSettings, CanTransport
from ..protocol.client import BmsClient
from ..protocol.errors import BmsError
from ..protocol.snapshot import BatterySnapshot, DeviceInfo
from .setup import can_driver

_LOGGER = logging.getLogger(__name__)

BITRATES = (125_000, 250_000, 500_000, 1_000_000)
DEFAULT_BITRATE = 500_000
DEFAULT_CHANNEL = "can0"
# How long the flow listens: several broadcast cycles of about a second.
LISTEN_SECONDS = 5.0

ADAPTER_ERROR_KEYS: tuple[tuple[type[CanAdapterError], str], ...] = (
    (CanNotFoundError, "can_not_found"),
    (CanBusyError, "can_busy"),
    (CanPermissionError, "can_permission"),
    (CanUnavailableError, "can_unavailable"),
)


@dataclass(frozen=True, slots=True)
class Heard:
    """What the flow heard: the battery's name, a reading, the JK BMS read."""

    info: DeviceInfo
    snapshot: BatterySnapshot
    jk_address: int | None = None

    def entry_data(
        self, answers: Mapping[str, Any], before: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The entry's data ``before`` with the answers and the JK address heard.

        A JK address is stored only where JK's frames were heard.
        """
        data = {k: v for k, v in (before or {}).items() if k != CONF_CAN_JK_ADDRESS}
        data.update(answers)
        if self.jk_address is not None:
            data[CONF_CAN_JK_ADDRESS] = self.jk_address
        return data


def can_schema(defaults: dict[str, Any] | None = None) -> vol.Schema:
    """The form: interface, channel, bit rate."""
    defaults = defaults or {}
    return vol.Schema(
        {
            # Any python-can interface name (the description names the usual
            # ones): a text field, as a list with typed-in values is not
            # offered by every frontend this integration supports.
            vol.Required(
                CONF_CAN_INTERFACE,
                default=defaults.get(CONF_CAN_INTERFACE, INTERFACES[0]),
            ): selector.TextSelector(),
            vol.Required(
                CONF_CAN_CHANNEL,
                default=defaults.get(CONF_CAN_CHANNEL, DEFAULT_CHANNEL),
            ): selector.TextSelector(),
            vol.Required(
                CONF_CAN_BITRATE,
                default=str(defaults.get(CONF_CAN_BITRATE, DEFAULT_BITRATE)),
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[str(rate) for rate in BITRATES],
                    mode=selector.SelectSelectorMode.DROPDOWN,
                )
            ),
        }
    )


def can_answers(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The form's answers as an entry stores them."""
    return {
        CONF_CAN_INTERFACE: str(user_input[CONF_CAN_INTERFACE]).strip(),
        CONF_CAN_CHANNEL: str(user_input[CONF_CAN_CHANNEL]).strip(),
        CONF_CAN_BITRATE: int(user_input[CONF_CAN_BITRATE]),
    }


def same_channel(data: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    """Whether ``data`` names the interface and channel of ``answers``."""
    return data.get(CONF_KIND) == KIND_CAN and all(
        data.get(key) == answers[key] for key in (CONF_CAN_INTERFACE, CONF_CAN_CHANNEL)
    )


def channel_taken(
    entries: Iterable[ConfigEntry], answers: Mapping[str, Any], *, but: str = ""
) -> bool:
    """Whether an entry other than ``but`` listens on that channel already."""
    return any(
        entry.entry_id != but and same_channel(entry.data, answers) for entry in entries
    )


def adapter_error_key(err: CanAdapterError) -> str:
    """The translation key that explains an adapter error."""
    for kind, key in ADAPTER_ERROR_KEYS:
        if isinstance(err, kind):
            return key
    return "can_adapter_error"


async def async_listen(settings: CanSettings) -> Heard | str:
    """Listen for a few seconds; what was heard, or the key of what went wrong."""
    driver = can_driver(settings, {}, None)
    driver.request_timeout = LISTEN_SECONDS
    client = BmsClient(driver)
    try:
        info = await client.read_device_info()
        snapshot = await client.read_snapshot()
    except CanAdapterError as err:
        _LOGGER.debug("Opening %s failed: %s", settings.channel, err)
        return adapter_error_key(err)
    except BmsError as err:
        _LOGGER.debug("Nothing decoded on %s: %s", settings.channel, err)
        transport = driver.transport
        heard = driver.decoder.stats.frames or (
            isinstance(transport, CanTransport) and transport.error_frames
        )
        return "can_nothing_decoded" if heard else "can_silent"
    finally:
        await client.close()
    return Heard(info, snapshot, driver.decoder.jk_bound)
