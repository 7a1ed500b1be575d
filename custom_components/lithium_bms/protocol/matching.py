"""Advertisement matchers, with Home Assistant's manifest semantics.

A matcher may also name address prefixes (OUIs) or ask for no service data.
Home Assistant's manifest cannot express either, so the manifest entry is the
matcher without them: it wakes the integration for a wider set of devices,
and :meth:`matches` (used by the config flow) decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

BASE_UUID = "0000{:04x}-0000-1000-8000-00805f9b34fb"


def uuid16(value: int) -> str:
    """Expand a 16-bit UUID to its lowercase 128-bit form."""
    return BASE_UUID.format(value)


def full_uuid(value: int | str) -> str:
    """A 16-bit UUID expanded, a 128-bit one as given, both lowercase."""
    return uuid16(value) if isinstance(value, int) else value.lower()


@dataclass(frozen=True, slots=True)
class Advertisement:
    """The parts of a Bluetooth advertisement that matchers look at."""

    address: str
    name: str | None
    service_uuids: tuple[str, ...] = ()
    manufacturer_data: Mapping[int, bytes] | None = None
    service_data: Mapping[str, bytes] | None = None


@dataclass(frozen=True, slots=True)
class AdvertisementMatcher:
    """One matcher: every field that is set must match (logical AND)."""

    local_name: str | None = None
    service_uuid: str | None = None
    manufacturer_id: int | None = None
    manufacturer_data_start: bytes | None = None
    address_prefixes: tuple[str, ...] = ()
    # The advertisement must carry service data under this UUID (any bytes).
    service_data_uuid: str | None = None
    # True: the advertisement must carry no service data at all.
    without_service_data: bool = False

    def matches(self, adv: Advertisement) -> bool:
        """Whether the advertisement satisfies this matcher."""
        if self.local_name is not None and not (
            adv.name and fnmatchcase(adv.name, self.local_name)
        ):
            return False
        if self.address_prefixes and not adv.address.upper().startswith(
            self.address_prefixes
        ):
            return False
        if self.without_service_data and adv.service_data:
            return False
        if (
            self.service_data_uuid is not None
            and self.service_data_uuid.lower()
            not in {u.lower() for u in adv.service_data or {}}
        ):
            return False
        if self.service_uuid is not None and self.service_uuid.lower() not in {
            u.lower() for u in adv.service_uuids
        }:
            return False
        if self.manufacturer_id is not None:
            data = (adv.manufacturer_data or {}).get(self.manufacturer_id)
            if data is None:
                return False
            start = self.manufacturer_data_start
            if start is not None and not data.startswith(start):
                return False
        return True

    def as_manifest(self) -> dict[str, object]:
        """The matcher as a ``manifest.json`` ``bluetooth`` entry.

        Without the address prefixes and the absence of service data.
        """
        entry: dict[str, object] = {}
        if self.local_name is not None:
            entry["local_name"] = self.local_name
        if self.service_uuid is not None:
            entry["service_uuid"] = self.service_uuid
        if self.service_data_uuid is not None:
            entry["service_data_uuid"] = self.service_data_uuid
        if self.manufacturer_id is not None:
            entry["manufacturer_id"] = self.manufacturer_id
        if self.manufacturer_data_start is not None:
            entry["manufacturer_data_start"] = list(self.manufacturer_data_start)
        entry["connectable"] = True
        return entry
