"""Battery banks: several configured packs read and switched as one battery."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .analytics.bank import BankReading, Wiring, aggregate
from .const import CONF_KIND, CONF_MEMBERS, CONF_WIRING, DOMAIN, KIND_BANK
from .coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from .protocol.snapshot import SwitchKind

_LOGGER = logging.getLogger(__name__)

BANK_INTERVAL = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class BankState:
    """One aggregate reading of the bank, with the members' switch and energy state."""

    reading: BankReading
    member_names: tuple[str, ...]
    switches: dict[SwitchKind, bool | None]
    charge_energy: float | None
    discharge_energy: float | None


@dataclass
class BankData:
    """What a bank entry holds at runtime."""

    coordinator: BankCoordinator


type BankConfigEntry = ConfigEntry[BankData]


def bank_of(entry: ConfigEntry[Any]) -> BankCoordinator | None:
    """The bank coordinator of a bank entry; None for a BMS entry."""
    if entry.data.get(CONF_KIND) != KIND_BANK:
        return None
    data: BankData = entry.runtime_data
    return data.coordinator


class BankCoordinator(DataUpdateCoordinator[BankState]):
    """Aggregates the members' latest readings; no Bluetooth of its own."""

    config_entry: BankConfigEntry

    def __init__(self, hass: HomeAssistant, entry: BankConfigEntry) -> None:
        """Set up for the members listed in the entry."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=BANK_INTERVAL,
        )
        self.member_ids: list[str] = list(entry.data[CONF_MEMBERS])
        self.wiring = Wiring(entry.data[CONF_WIRING])

    def members(self) -> list[LithiumBmsCoordinator | None]:
        """Each member's coordinator, or None while it is not loaded."""
        found: list[LithiumBmsCoordinator | None] = []
        for entry_id in self.member_ids:
            entry: LithiumBmsConfigEntry | None = (
                self.hass.config_entries.async_get_entry(entry_id)
            )
            if entry is None or entry.state is not ConfigEntryState.LOADED:
                found.append(None)
            else:
                found.append(entry.runtime_data.coordinator)
        return found

    async def _async_update_data(self) -> BankState:
        """Combine what each member read last."""
        members = self.members()
        snapshots = [
            m.data if m is not None and m.last_update_success else None for m in members
        ]
        switches: dict[SwitchKind, bool | None] = {}
        for kind in (SwitchKind.CHARGE, SwitchKind.DISCHARGE):
            states = [s.switches.get(kind) if s else None for s in snapshots]
            if any(state is False for state in states):
                switches[kind] = False
            elif all(state is True for state in states):
                switches[kind] = True
            else:
                switches[kind] = None
        loaded = [m for m in members if m is not None]
        all_loaded = len(loaded) == len(members)
        return BankState(
            reading=aggregate(snapshots, self.wiring),
            member_names=tuple(
                m.config_entry.title if m else entry_id
                for m, entry_id in zip(members, self.member_ids, strict=True)
            ),
            switches=switches,
            charge_energy=(
                sum(m.tracker.energy.charge_energy for m in loaded)
                if all_loaded
                else None
            ),
            discharge_energy=(
                sum(m.tracker.energy.discharge_energy for m in loaded)
                if all_loaded
                else None
            ),
        )

    async def async_set_switch(self, kind: SwitchKind, on: bool) -> None:
        """Switch every member; report the members that did not confirm."""
        failed: list[str] = []
        for entry_id, member in zip(self.member_ids, self.members(), strict=True):
            if member is None:
                failed.append(entry_id)
                continue
            try:
                await member.async_set_switch(kind, on)
            except HomeAssistantError:
                failed.append(member.config_entry.title)
        await self.async_refresh()
        if failed:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="bank_command_failed",
                translation_placeholders={
                    "switch": kind.value,
                    "members": ", ".join(failed),
                },
            )
