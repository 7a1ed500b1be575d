"""Battery banks: several configured packs read and switched as one battery."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .analytics.bank import BankEnergy, BankReading, Energy, Wiring, aggregate
from .const import CONF_KIND, CONF_MEMBERS, CONF_WIRING, DOMAIN, KIND_BANK
from .coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from .protocol.snapshot import SwitchKind

_LOGGER = logging.getLogger(__name__)

BANK_INTERVAL = timedelta(seconds=5)
STORAGE_VERSION = 1
SAVE_DELAY = 30


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
        # Once each: banks saved before the flow refused duplicates listed some
        # pack twice, which doubled its current and capacity.
        self.member_ids: list[str] = list(dict.fromkeys(entry.data[CONF_MEMBERS]))
        self.wiring = Wiring(entry.data[CONF_WIRING])
        self._store = _store(hass, entry.entry_id)
        self._energy = BankEnergy()

    async def _async_setup(self) -> None:
        """Restore the energy shares saved for the bank, if any."""
        saved = await self._store.async_load()
        self._energy = BankEnergy.from_dict(saved)
        if saved is not None and self._energy.to_dict() != saved:
            _LOGGER.warning(
                "Dropped invalid saved energy shares of bank %s: its totals may "
                "restart lower",
                self.name,
            )

    async def async_shutdown(self) -> None:
        """Stop updating; save the energy shares now (unload, reload, removal)."""
        await super().async_shutdown()
        await self._store.async_save(self._energy.to_dict())

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
        energy = self._energy.update(
            {
                entry_id: _energy_of(member)
                for entry_id, member in zip(self.member_ids, members, strict=True)
            }
        )
        self._store.async_delay_save(self._energy.to_dict, SAVE_DELAY)
        return BankState(
            reading=aggregate(snapshots, self.wiring),
            member_names=tuple(
                m.config_entry.title if m else entry_id
                for m, entry_id in zip(members, self.member_ids, strict=True)
            ),
            switches=switches,
            charge_energy=None if energy is None else energy.charge,
            discharge_energy=None if energy is None else energy.discharge,
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


def _energy_of(member: LithiumBmsCoordinator | None) -> Energy | None:
    """A loaded member's energy counters; None while away or without current sensor.

    A member without current sensor integrates a placeholder 0 A: it is never
    counted, so the bank's totals stay unknown rather than wrong.
    """
    if member is None or not member.data.measures_current:
        return None
    counter = member.tracker.energy
    return Energy(counter.charge_energy, counter.discharge_energy)


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.bank.{entry_id}")


async def async_remove_bank_state(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the saved energy shares of a removed bank."""
    await _store(hass, entry_id).async_remove()
