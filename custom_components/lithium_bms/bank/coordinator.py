"""The bank's coordinator: combines what its members' coordinators publish.

It has no interval of its own: it follows each member's coordinator and
tracker, so a member that updates, goes away or comes back updates the bank
at once. :class:`BankCoordinator` is the base; :class:`EntryBankCoordinator`
is a bank entry whose members are other entries (it also follows their
state); the packs of a wired bus form a bank of their own (``bus/``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ..analytics.bank import (
    BankEnergy,
    BankReading,
    Energy,
    Wiring,
    aggregate,
    all_on,
)
from ..const import CONF_MEMBERS, CONF_WIRING, DOMAIN
from ..coordinator import LithiumBmsConfigEntry, LithiumBmsCoordinator
from ..labels import async_entity_names
from ..protocol.snapshot import SwitchKind

if TYPE_CHECKING:
    from .kind import BankData

_LOGGER = logging.getLogger(__name__)

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


type BankConfigEntry = ConfigEntry[BankData]


class BankCoordinator(DataUpdateCoordinator[BankState]):
    """Aggregates the members' latest readings; no link, no polling.

    ``member_ids`` key the members (and their saved energy shares);
    subclasses say how a member is found and followed.
    """

    config_entry: ConfigEntry[Any]

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        member_ids: list[str],
        wiring: Wiring,
        device: DeviceInfo,
    ) -> None:
        """Set up for ``member_ids``, shown as ``device``."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=entry.title,
        )
        self.member_ids = member_ids
        self.wiring = wiring
        self.device = device
        self._store = _store(hass, entry.entry_id)
        self._energy = BankEnergy()
        self._following: dict[str, list[CALLBACK_TYPE]] = {}

    def member(self, member_id: str) -> LithiumBmsCoordinator | None:
        """A member's coordinator, or None while it is not loaded."""
        raise NotImplementedError

    def _followed(self, member_id: str) -> LithiumBmsCoordinator | None:
        """The coordinator to listen to for a member (its own, while loaded)."""
        return self.member(member_id)

    async def _async_setup(self) -> None:
        """Restore the saved energy shares; start following the members."""
        saved = await self._store.async_load()
        self._energy = BankEnergy.from_dict(saved)
        if saved is not None and self._energy.to_dict() != saved:
            _LOGGER.warning(
                "Dropped invalid saved energy shares of bank %s: its totals may "
                "restart lower",
                self.name,
            )
        for member_id in self.member_ids:
            self._follow(member_id)

    @callback
    def _follow(self, member_id: str) -> None:
        """Listen to the member's coordinator and tracker while it is loaded."""
        for stop in self._following.pop(member_id, ()):
            stop()
        if (member := self._followed(member_id)) is None:
            return
        self._following[member_id] = [
            member.async_add_listener(self._publish),
            member.tracker.async_add_listener(self._publish),
        ]

    @callback
    def _publish(self) -> None:
        """Combine the members' readings now."""
        self.async_set_updated_data(self._combine())

    async def async_shutdown(self) -> None:
        """Stop following; save the energy shares now (unload, reload, removal)."""
        for member_id in list(self._following):
            for stop in self._following.pop(member_id):
                stop()
        await super().async_shutdown()
        await self._store.async_save(self._energy.to_dict())

    def members(self) -> list[LithiumBmsCoordinator | None]:
        """Each member's coordinator, or None while it is not loaded."""
        return [self.member(member_id) for member_id in self.member_ids]

    async def _async_update_data(self) -> BankState:
        """Combine what each member read last (the first refresh)."""
        return self._combine()

    def _combine(self) -> BankState:
        """Combine what each member read last."""
        members = self.members()
        snapshots = [
            m.data if m is not None and m.last_update_success else None for m in members
        ]
        switches = {
            kind: all_on([s.switches.get(kind) if s else None for s in snapshots])
            for kind in (SwitchKind.CHARGE, SwitchKind.DISCHARGE)
        }
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
                m.pack.name if m else member_id
                for m, member_id in zip(members, self.member_ids, strict=True)
            ),
            switches=switches,
            charge_energy=None if energy is None else energy.charge,
            discharge_energy=None if energy is None else energy.discharge,
        )

    async def async_set_switch(self, kind: SwitchKind, on: bool) -> None:
        """Switch every member; report the members that did not confirm."""
        failed: list[str] = []
        for member_id, member in zip(self.member_ids, self.members(), strict=True):
            if member is None:
                failed.append(member_id)
                continue
            try:
                await member.async_set_switch(kind, on)
            except HomeAssistantError:
                failed.append(member.pack.name)
        self._publish()
        if failed:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="bank_command_failed",
                translation_placeholders={
                    "switch": await async_entity_names(
                        self.hass, "switch", [kind.value]
                    ),
                    "members": ", ".join(failed),
                },
            )


class EntryBankCoordinator(BankCoordinator):
    """A bank entry: its members are other entries, followed while loaded."""

    config_entry: BankConfigEntry

    def __init__(self, hass: HomeAssistant, entry: BankConfigEntry) -> None:
        """Set up for the members listed in the entry."""
        super().__init__(
            hass,
            entry,
            # Once each: banks saved before the flow refused duplicates listed
            # some pack twice, which doubled its current and capacity.
            list(dict.fromkeys(entry.data[CONF_MEMBERS])),
            Wiring(entry.data[CONF_WIRING]),
            DeviceInfo(
                identifiers={(DOMAIN, f"bank_{entry.entry_id}")},
                name=entry.title,
                manufacturer="Lithium BMS",
                model=f"Battery bank ({entry.data[CONF_WIRING]})",
            ),
        )
        self._watching: list[CALLBACK_TYPE] = []

    def member(self, member_id: str) -> LithiumBmsCoordinator | None:
        """The member entry's coordinator while the entry is loaded."""
        entry: LithiumBmsConfigEntry | None = self.hass.config_entries.async_get_entry(
            member_id
        )
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        return entry.runtime_data.coordinator

    async def _async_setup(self) -> None:
        """Also follow each member entry's loads, unloads and reloads."""
        await super()._async_setup()
        for entry_id in self.member_ids:
            if member := self.hass.config_entries.async_get_entry(entry_id):
                self._watching.append(
                    member.async_on_state_change(partial(self._member_moved, entry_id))
                )

    @callback
    def _member_moved(self, entry_id: str) -> None:
        """A member entry was loaded, unloaded or reloaded."""
        self._follow(entry_id)
        self._publish()

    async def async_shutdown(self) -> None:
        """Stop watching the member entries too."""
        for stop in self._watching:
            stop()
        await super().async_shutdown()


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


def too_small_issue_id(entry: ConfigEntry[Any]) -> str:
    """The repair raised when a bank is left with fewer than two packs."""
    return f"bank_too_small_{entry.entry_id}"


async def async_remove_bank_state(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the saved energy shares of a removed bank."""
    await _store(hass, entry_id).async_remove()
