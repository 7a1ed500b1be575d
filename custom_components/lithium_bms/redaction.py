"""Secrets masked wherever they appear in what we hand to users.

Keys that always hold a secret are redacted by name. Known values (Bluetooth
addresses, passwords, serial numbers) are masked inside any string too, in
every spelling they take: with or without separators, either case, in either
byte order, and as hex of their bytes, so a name like ``DL-40D63C112233`` or a
hex dump of manufacturer data cannot carry them out. Any other MAC-shaped text
(a proxy's address, a member's) is masked as well.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "**REDACTED**"
SECRET_KEYS = frozenset({"address", "password", "unique_id", "title", "serial_number"})
_MAC = re.compile(
    r"(?<![0-9a-f])(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}(?![0-9a-f])", re.IGNORECASE
)
_MIN_SECRET = 4


def address_spellings(address: str) -> set[str]:
    """Every way a Bluetooth address is written, lower case."""
    digits = re.sub(r"[^0-9a-f]", "", address.lower())
    if len(digits) != 12:
        return {address.lower()} if address else set()
    octets = [digits[i : i + 2] for i in range(0, 12, 2)]
    spellings = set()
    for order in (octets, octets[::-1]):
        for separator in ("", ":", "-"):
            spellings.add(separator.join(order))
    return spellings


def value_spellings(value: str) -> set[str]:
    """A secret as text and as the hex of its bytes, lower case."""
    if len(value) < _MIN_SECRET:
        return set()
    return {value.lower(), value.encode("utf-8", errors="replace").hex()}


class Redactor:
    """Masks a set of known secrets, and every MAC address, in nested data."""

    def __init__(self, addresses: Iterable[str], values: Iterable[str]) -> None:
        """Collect the spellings to look for."""
        spellings: set[str] = set()
        for address in addresses:
            spellings |= address_spellings(address)
        for value in values:
            spellings |= value_spellings(value)
        # Longest first, so a shorter spelling cannot leave part of a longer one.
        self._pattern = (
            re.compile(
                "|".join(
                    re.escape(s) for s in sorted(spellings, key=len, reverse=True)
                ),
                re.IGNORECASE,
            )
            if spellings
            else None
        )

    def mapping(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a mapping with every secret masked."""
        masked: dict[str, Any] = self(data)
        return masked

    def __call__(self, data: Any) -> Any:
        """A copy of ``data`` with every secret masked."""
        if dataclasses.is_dataclass(data) and not isinstance(data, type):
            return self(dataclasses.asdict(data))
        if isinstance(data, Mapping):
            return {
                self._text(str(key)): REDACTED
                if key in SECRET_KEYS and value not in (None, "")
                else self(value)
                for key, value in data.items()
            }
        if isinstance(data, list | tuple | set | frozenset):
            return [self(item) for item in data]
        if isinstance(data, str):
            return self._text(data)
        return data

    def _text(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return _MAC.sub(REDACTED, text)
