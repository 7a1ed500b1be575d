"""Bluetooth LE transport on bleak and bleak-retry-connector."""

from __future__ import annotations

import logging
from collections.abc import Callable

import bleak_retry_connector
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from .errors import BmsConnectionError, PairingRequiredError
from .matching import full_uuid
from .transport import DataCallback, DisconnectCallback, GattProfile, Transport

_LOGGER = logging.getLogger(__name__)

CONNECT_ATTEMPTS = 3
PAIRING_HINTS = ("AuthenticationCanceled", "AuthenticationFailed", "Insufficient Auth")
WRITE_PROPS = frozenset({"write", "write-without-response"})
NOTIFY_PROPS = frozenset({"notify", "indicate"})


class BleTransport(Transport):
    """Connects through Home Assistant's Bluetooth stack (adapter or proxy).

    ``device_provider`` is asked for the newest :class:`BLEDevice` on every
    (re)connect attempt, so the best path is always used; it returns None when
    no adapter or proxy sees the device.
    """

    def __init__(
        self,
        device_provider: Callable[[], BLEDevice | None],
        profiles: tuple[GattProfile, ...],
    ) -> None:
        """Remember how to find the device and its characteristics."""
        self._device_provider = device_provider
        self._profiles = profiles
        self._client: bleak_retry_connector.BleakClientWithServiceCache | None = None
        self._write_char: BleakGATTCharacteristic | None = None
        self._write_response = False
        self._service: int | str | None = None

    @property
    def is_connected(self) -> bool:
        """Whether the GATT link is up."""
        return self._client is not None and self._client.is_connected

    @property
    def service(self) -> int | str | None:
        """The service of the profile the link uses (None until connected)."""
        return self._service

    async def connect(
        self, on_data: DataCallback, on_disconnect: DisconnectCallback
    ) -> None:
        """Connect, pick the characteristics by properties, start notifications."""
        device = self._device_provider()
        if device is None:
            raise BmsConnectionError("the BMS is not in range of any adapter or proxy")
        latest = device

        def _newest_device() -> BLEDevice:
            nonlocal latest
            latest = self._device_provider() or latest
            return latest

        def _disconnected(_: object) -> None:
            on_disconnect()

        def _notified(_: object, data: bytearray) -> None:
            on_data(bytes(data))

        try:
            # Looked up at call time: Home Assistant swaps in its own wrapper.
            client = await bleak_retry_connector.establish_connection(
                bleak_retry_connector.BleakClientWithServiceCache,
                device,
                device.name or device.address,
                disconnected_callback=_disconnected,
                max_attempts=CONNECT_ATTEMPTS,
                ble_device_callback=_newest_device,
            )
        except (BleakError, TimeoutError, OSError) as err:
            raise _connection_error(err) from err
        try:
            for profile in self._profiles:
                chars = _resolve(client, profile)
                if chars is None:
                    continue
                notify, write = chars
                try:
                    await client.start_notify(notify, _notified)
                except BleakError as err:
                    if _needs_pairing(err):
                        raise PairingRequiredError(str(err)) from err
                    _LOGGER.debug("Notify on %s refused: %s", notify.uuid, err)
                    continue
                self._client = client
                self._service = profile.service
                self._write_char = write
                self._write_response = profile.write_with_response or (
                    write is not None
                    and "write-without-response" not in write.properties
                )
                await _unlock(client, profile)
                return
        except BaseException:
            await client.disconnect()
            raise
        await client.disconnect()
        if not list(client.services):
            raise PairingRequiredError("the BMS exposes no GATT services")
        raise BmsConnectionError("the BMS has none of the expected characteristics")

    async def write(self, data: bytes) -> None:
        """Write one request."""
        if self._client is None:
            raise BmsConnectionError("not connected")
        if self._write_char is None:
            raise BmsConnectionError("this BMS has no write characteristic")
        try:
            await self._client.write_gatt_char(
                self._write_char, data, response=self._write_response
            )
        except (BleakError, TimeoutError, OSError) as err:
            raise BmsConnectionError(f"write failed: {err}") from err

    async def disconnect(self) -> None:
        """Disconnect if connected."""
        client, self._client = self._client, None
        self._write_char = None
        self._service = None
        if client is not None:
            try:
                await client.disconnect()
            except (BleakError, TimeoutError, OSError) as err:
                _LOGGER.debug("Disconnect failed: %s", err)


def _resolve(
    client: bleak_retry_connector.BleakClientWithServiceCache, profile: GattProfile
) -> tuple[BleakGATTCharacteristic, BleakGATTCharacteristic | None] | None:
    """Find the notify and write characteristics of a profile, by properties.

    A profile without a write characteristic needs only the notify one.
    """
    service = client.services.get_service(full_uuid(profile.service))
    writes_in = client.services.get_service(
        full_uuid(profile.write_service or profile.service)
    )
    if service is None or writes_in is None:
        return None
    notify = next(
        (
            char
            for char in service.characteristics
            if char.uuid == full_uuid(profile.notify)
            and set(char.properties) & NOTIFY_PROPS
        ),
        None,
    )
    if notify is None or profile.write is None:
        return None if notify is None else (notify, None)
    wanted = full_uuid(profile.write)
    write = next(
        (
            char
            for char in writes_in.characteristics
            if char.uuid == wanted and set(char.properties) & WRITE_PROPS
        ),
        None,
    )
    return None if write is None else (notify, write)


async def _unlock(
    client: bleak_retry_connector.BleakClientWithServiceCache, profile: GattProfile
) -> None:
    """Write the profile's unlock bytes, where the device has the characteristic."""
    if profile.unlock is None:
        return
    uuid, data = profile.unlock
    service = client.services.get_service(full_uuid(profile.service))
    char = next(
        (
            char
            for char in (service.characteristics if service else ())
            if char.uuid == full_uuid(uuid) and set(char.properties) & WRITE_PROPS
        ),
        None,
    )
    if char is None:
        _LOGGER.debug("No unlock characteristic %s", full_uuid(uuid))
        return
    try:
        await client.write_gatt_char(
            char, data, response="write-without-response" not in char.properties
        )
    except (BleakError, TimeoutError, OSError) as err:
        _LOGGER.debug("Unlock write to %s refused: %s", char.uuid, err)


def _needs_pairing(err: Exception) -> bool:
    return any(hint in str(err) for hint in PAIRING_HINTS)


def _connection_error(err: Exception) -> Exception:
    if _needs_pairing(err):
        return PairingRequiredError(str(err))
    return BmsConnectionError(str(err) or type(err).__name__)
