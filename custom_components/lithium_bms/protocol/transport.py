"""The byte transport a driver talks through.

A driver only writes requests and receives bytes; it never knows whether they
travel over Bluetooth LE or a serial line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

type DataCallback = Callable[[bytes], None]
type DisconnectCallback = Callable[[], None]


@dataclass(frozen=True, slots=True)
class GattProfile:
    """A GATT service with its notify and write characteristics.

    ``write_service`` holds the write characteristic when it sits in another
    service than the notify one (Renogy: notify FFF1 in FFF0, write FFD1 in FFD0).
    ``write`` is None for a BMS that only streams (Topband): nothing is written.
    ``unlock`` is a characteristic of ``service`` and the bytes written to it
    once after notifications start (TDT: ``HiLink`` to FFFA); a device
    without that characteristic is read without it.

    A UUID is an ``int`` for a 16-bit one, or the full 128-bit string for a
    vendor UUID outside the Bluetooth base (``matching.full_uuid`` expands both).
    """

    service: int | str
    notify: int | str
    write: int | str | None = None
    write_with_response: bool = False
    write_service: int | str | None = None
    unlock: tuple[int | str, bytes] | None = None


class Transport(ABC):
    """A bidirectional byte link to one BMS."""

    @property
    @abstractmethod
    def is_connected(self) -> bool:
        """Whether the link is up."""

    @property
    def service(self) -> int | str | None:
        """The GATT service of the profile in use (None: not known or not GATT)."""
        return None

    @abstractmethod
    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        """Open the link; ``on_data`` then receives every chunk of bytes."""

    @abstractmethod
    async def write(self, data: bytes) -> None:
        """Send bytes to the BMS."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Close the link; safe to call when already closed."""

    def release(self) -> None:
        """The awaited reply is complete (a shared bus frees the line)."""
