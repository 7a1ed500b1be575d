"""The update coordinator: one BMS session per config entry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import (
    CONF_DRIVER_MEMORY,
    CONF_STORAGE_WARNING_DAYS,
    CONF_UPDATE_INTERVAL,
    CONF_VARIANT,
    DEFAULT_STORAGE_WARNING_DAYS,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    update_interval,
)
from .identity import PackIdentity
from .labels import async_entity_names
from .protocol.can.errors import CanAdapterError, CanSilenceError
from .protocol.client import BmsClient
from .protocol.errors import (
    AuthenticationError,
    BmsConnectionError,
    BmsError,
    BmsTimeoutError,
    BusOwnedError,
    CommandNotConfirmedError,
    CommandUnverifiableError,
    PairingRequiredError,
    ProtocolError,
    UnsupportedError,
)
from .protocol.plausibility import ImplausibleDataError
from .protocol.snapshot import BatterySnapshot, DeviceInfo, SwitchKind
from .tracker import PackTracker, standby_issue_id

if TYPE_CHECKING:
    from .pack import LithiumBmsData

_LOGGER = logging.getLogger(__name__)


type LithiumBmsConfigEntry = ConfigEntry[LithiumBmsData]


def error_key(err: BmsError) -> str:
    """The translation key that explains a BMS error."""
    if isinstance(err, CanSilenceError):
        return "can_silent"
    if isinstance(err, CanAdapterError):
        return "can_adapter_error"
    if isinstance(err, BmsTimeoutError):
        return "timeout"
    if isinstance(err, BmsConnectionError):
        return "connection_lost"
    if isinstance(err, ImplausibleDataError):
        return "implausible_data"
    if isinstance(err, ProtocolError):
        return "bad_data"
    if isinstance(err, PairingRequiredError):
        return "pairing_required"
    if isinstance(err, AuthenticationError):
        return "auth_failed"
    if isinstance(err, UnsupportedError):
        return "unsupported"
    return "communication_error"


class LithiumBmsCoordinator(DataUpdateCoordinator[BatterySnapshot]):
    """Reads a snapshot at the configured interval and runs switch commands."""

    config_entry: LithiumBmsConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: LithiumBmsConfigEntry,
        client: BmsClient,
        tracker: PackTracker,
        *,
        pack: PackIdentity | None = None,
    ) -> None:
        """Set up the coordinator for one BMS (the entry's own, by default)."""
        self.pack = pack or PackIdentity.of_entry(entry)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=self.pack.name,
            update_interval=update_interval(
                entry.options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL)
            ),
            # Energy and the SOC estimate, which move even when the reading
            # repeats, are published by the tracker's own listeners.
            always_update=False,
        )
        self.client = client
        self.tracker = tracker
        self.address = self.pack.key
        self.device_info: DeviceInfo | None = None
        self._calibration_needed: bool | None = None
        # The days the standby drain issue shows; until the first drain is
        # known, unchecked (the issue of an earlier setup is brought in line).
        self._standby_days_shown: int | None = None
        self._standby_checked = False
        self._shut_down = False
        # Told after each read whether it succeeded (a master's reported packs).
        self.on_read: Callable[[bool], None] | None = None

    @property
    def has_reading(self) -> bool:
        """Whether any snapshot was read yet (``data`` is None until then)."""
        return cast("BatterySnapshot | None", self.data) is not None

    async def _async_setup(self) -> None:
        """Restore the trackers, read the device information once."""
        await self.tracker.async_load()
        try:
            self.device_info = await self.client.read_device_info()
        except BmsError as err:
            raise self._failure(err) from err

    async def _async_update_data(self) -> BatterySnapshot:
        """Read one snapshot."""
        try:
            snapshot = await self.client.read_snapshot()
        except BmsError as err:
            if self.on_read is not None:
                self.on_read(False)
            raise self._failure(err) from err
        if self.on_read is not None:
            self.on_read(True)
        ir.async_delete_issue(self.hass, DOMAIN, self._pairing_issue_id)
        self._remember_driver_state()
        self.tracker.update(snapshot)
        self._report_calibration()
        self._report_standby_drain()
        return snapshot

    def _report_calibration(self) -> None:
        """Raise or clear the repair issue for a BMS SOC that drifted for a day."""
        needed = self.tracker.soc.calibration_needed
        if needed == self._calibration_needed:
            return
        self._calibration_needed = needed
        self._show_warning(
            f"calibration_needed_{self.pack.storage_id}",
            "calibration_needed",
            {"name": self.pack.name} if needed else None,
        )

    def _report_standby_drain(self) -> None:
        """Raise or clear the repair issue for a pack that empties in storage."""
        days = self.tracker.health.standby.days_until_empty
        if days is None:
            return
        limit = (
            self.config_entry.options.get(CONF_STORAGE_WARNING_DAYS)
            or DEFAULT_STORAGE_WARNING_DAYS
        )
        # The issue names the days, so it is raised again when they change.
        shown = round(days) if days < limit else None
        if self._standby_checked and shown == self._standby_days_shown:
            return
        self._standby_checked = True
        self._standby_days_shown = shown
        self._show_warning(
            standby_issue_id(self.pack.storage_id),
            "standby_drain",
            None
            if shown is None
            else {
                "name": self.pack.name,
                "days": str(shown),
                "limit": str(round(limit)),
            },
        )

    def _show_warning(
        self, issue_id: str, translation_key: str, placeholders: dict[str, str] | None
    ) -> None:
        """Raise a warning repair issue with ``placeholders``, or clear it (None)."""
        if placeholders is None:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
            translation_placeholders=placeholders,
        )

    def _failure(self, err: BmsError) -> Exception:
        """Translate a BMS error into what Home Assistant expects."""
        if isinstance(err, AuthenticationError):
            return ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            )
        if isinstance(err, PairingRequiredError):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._pairing_issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="pairing_required",
                translation_placeholders={
                    "name": self.pack.name,
                    "address": self.address,
                },
            )
        key = error_key(err)
        if key == "connection_lost" and not self.pack.bluetooth:
            key = "wired_connection_lost"
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"error": str(err)},
        )

    @property
    def _pairing_issue_id(self) -> str:
        return f"pairing_required_{self.pack.storage_id}"

    def _remember_driver_state(self) -> None:
        """Persist the protocol variant and the driver's memory when they change."""
        driver = self.client.driver
        saved = self._saved_driver_state()
        state = dict(saved)
        if driver.variant:
            state[CONF_VARIANT] = driver.variant
        if memory := dict(driver.memory):
            state[CONF_DRIVER_MEMORY] = memory
        if state != saved:
            self._save_driver_state(state)

    def _saved_driver_state(self) -> dict[str, Any]:
        """Where the variant and the memory are kept: the entry's data."""
        return dict(self.config_entry.data)

    def _save_driver_state(self, state: dict[str, Any]) -> None:
        self.hass.config_entries.async_update_entry(self.config_entry, data=state)

    async def async_set_switch(self, kind: SwitchKind, on: bool) -> None:
        """Switch, confirm by read-back, publish the state read."""
        try:
            snapshot = await self.client.set_switch(kind, on)
        except CommandNotConfirmedError as err:
            switch = await async_entity_names(self.hass, "switch", [kind.value])
            self._remember_driver_state()
            # Not debounced: a second refused command within the debouncer's
            # cooldown must still show the state read back at once.
            await self.async_refresh()
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=(
                    "command_unverified"
                    if isinstance(err, CommandUnverifiableError)
                    else "command_not_confirmed"
                ),
                translation_placeholders={"switch": switch, "error": str(err)},
            ) from err
        except BusOwnedError as err:
            switch = await async_entity_names(self.hass, "switch", [kind.value])
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="bus_owned",
                translation_placeholders={"switch": switch},
            ) from err
        except BmsError as err:
            # The command may have reached the BMS: keep what the driver wrote.
            self._remember_driver_state()
            switch = await async_entity_names(self.hass, "switch", [kind.value])
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={"switch": switch, "error": str(err)},
            ) from err
        self._remember_driver_state()
        self.async_set_updated_data(snapshot)

    @callback
    def _schedule_refresh(self) -> None:
        """Schedule the next update, unless the entry is shut down.

        An update or a switch command still running at unload ends after the
        shutdown; a bank listening to this coordinator would then schedule a
        poll of a closed connection.
        """
        if not self._shut_down:
            super()._schedule_refresh()

    async def async_shutdown(self) -> None:
        """Stop polling and disconnect."""
        self._shut_down = True
        await super().async_shutdown()
        await self.client.close()
        await self.tracker.async_save()
