"""Config flow: Bluetooth discovery, manual pick, wired buses, banks, options."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.components.bluetooth import (
    BluetoothServiceInfoBleak,
    async_discovered_service_info,
)
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_ADDRESS, CONF_NAME, CONF_PASSWORD
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .bank.flow import (
    BankReconfigureFlow,
    bank_entry_data,
    bank_errors,
    bank_schema,
    bms_entries,
)
from .bus.flow import (
    async_scan,
    async_serial_ports,
    bus_entry_data,
    packs_schema,
    port_schema,
    protocol_of,
    protocol_schema,
)
from .bus.options import BusOptionsFlow
from .bus.packs import port_label
from .bus.reconfigure import BusReconfigureFlow
from .canbus.flow import (
    Heard,
    async_listen,
    can_answers,
    can_schema,
    channel_taken,
    same_channel,
)
from .canbus.setup import can_settings
from .connection import advertisement, async_probe
from .const import (
    CONF_BAUDRATE,
    CONF_CAN_CHANNEL,
    CONF_FAMILY,
    CONF_KEEP_CONNECTED,
    CONF_KIND,
    CONF_MEMBERS,
    CONF_PACKS,
    CONF_PROTOCOL,
    CONF_SERIAL_PORT,
    CONF_UPDATE_INTERVAL,
    CONF_VARIANT,
    DEFAULT_KEEP_CONNECTED,
    DOMAIN,
    KIND_BANK,
    KIND_BUS,
    KIND_CAN,
    MIN_BANK_MEMBERS,
)
from .coordinator import LithiumBmsConfigEntry
from .option_fields import (
    analytics_fields,
    interval_field,
    invert_current_field,
    wiring_field,
)
from .protocol.driver import BmsDriver
from .protocol.errors import AuthenticationError, BmsError, PairingRequiredError
from .protocol.matching import full_uuid
from .protocol.registry import (
    BLUETOOTH_DRIVERS,
    driver_by_family,
    driver_for_advertisement,
)
from .protocol.wired import ScanResult
from .tracker import thresholds_from_options

# Ceiling for one family's probe of a device no matcher claims: Daly's own
# variant probes alone may take 20 s (8 s for a sleeping dongle, then 4 x 3 s).
PROBE_TIMEOUT = 30.0

PASSWORD_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        )
    }
)


def _password_fits(family: str, password: str) -> bool:
    """Whether the family takes a password of this form (not if it takes none)."""
    pattern = driver_by_family(family).password_pattern
    return pattern is not None and re.fullmatch(pattern, password) is not None


def _asks_password(errors: Mapping[str, str]) -> bool:
    """Whether a form shows the password field again after these errors."""
    return errors.get("base") == "invalid_auth" or CONF_PASSWORD in errors


def _title(name: str | None, address: str) -> str:
    """The advertised name without the spaces around it (RoyPow, Gobel)."""
    return (name or "").strip() or address


def _claimed_first(info: BluetoothServiceInfoBleak) -> tuple[bool, str]:
    """Sort key: devices a family claims first, then by name."""
    claimed = driver_for_advertisement(advertisement(info)) is not None
    return (not claimed, info.name or info.address)


def _supported_protocols() -> str:
    """The Bluetooth families, as the device step names them."""
    names = dict.fromkeys(_brand(driver) for driver in BLUETOOTH_DRIVERS)
    return ", ".join(names)


def _brand(driver: type[BmsDriver]) -> str:
    """How the flow names a family."""
    return driver.brand or driver.manufacturer


def _probe_order(info: BluetoothServiceInfoBleak) -> list[type[BmsDriver]]:
    """Families whose GATT service the device advertises first, then the rest."""
    advertised = {uuid.lower() for uuid in info.service_uuids}
    return sorted(
        BLUETOOTH_DRIVERS,
        key=lambda driver: (
            not any(full_uuid(profile.service) in advertised for profile in driver.gatt)
        ),
    )


class LithiumBmsConfigFlow(BusReconfigureFlow, BankReconfigureFlow, domain=DOMAIN):
    """Add a BMS discovered over Bluetooth."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._address = ""
        self._name = ""
        self._family = ""
        self._candidates: dict[str, BluetoothServiceInfoBleak] = {}
        self._wired: dict[str, Any] = {}
        self._scan: ScanResult | None = None
        self._can: dict[str, Any] = {}
        self._heard: Heard | None = None

    @staticmethod
    @callback
    def async_get_options_flow(
        entry: LithiumBmsConfigEntry,
    ) -> LithiumBmsOptionsFlow | BusOptionsFlow:
        """The options of a BMS entry, or of a bus."""
        if entry.data.get(CONF_KIND) == KIND_BUS:
            return BusOptionsFlow()
        return LithiumBmsOptionsFlow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Banks have no options; BMS entries do."""
        return config_entry.data.get(CONF_KIND) != KIND_BANK

    async def async_step_bluetooth(
        self, discovery_info: BluetoothServiceInfoBleak
    ) -> ConfigFlowResult:
        """A supported BMS was discovered; ask before connecting to it."""
        await self.async_set_unique_id(discovery_info.address)
        self._abort_if_unique_id_configured()
        driver = driver_for_advertisement(advertisement(discovery_info))
        if driver is None:
            return self.async_abort(reason="not_supported")
        self._address = discovery_info.address
        self._name = _title(discovery_info.name, discovery_info.address)
        self._family = driver.family
        self.context["title_placeholders"] = {"name": self._name}
        return await self.async_step_bluetooth_confirm()

    async def async_step_bluetooth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect only once the user confirms."""
        errors: dict[str, str] = {}
        if user_input is not None:
            result = await self._async_create(user_input, errors)
            if result is not None:
                return result
        if _asks_password(errors):
            schema = PASSWORD_SCHEMA
        else:
            self._set_confirm_only()
            schema = vol.Schema({})
        return self.async_show_form(
            step_id="bluetooth_confirm",
            data_schema=schema,
            errors=errors,
            description_placeholders={"name": self._name, **self._brands()},
        )

    def _brands(self) -> dict[str, str]:
        """The claimed family's brand and those of the families it falls back to."""
        claimed = driver_by_family(self._family)
        return {
            "brand": _brand(claimed),
            "fallbacks": ", ".join(
                _brand(driver_by_family(family)) for family in claimed.probe_also
            ),
        }

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a BMS over Bluetooth, a wired bus, or (with two or more packs) a bank."""
        options = ["device", "wired", "can"]
        if len(self._bms_entries()) >= MIN_BANK_MEMBERS:
            options.append("bank")
        return self.async_show_menu(step_id="user", menu_options=options)

    def _bms_entries(self) -> list[ConfigEntry]:
        """The Bluetooth BMS entries (what a bank entry can combine)."""
        return bms_entries(self._async_current_entries(include_ignore=False))

    async def async_step_wired(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A wired bus: first the protocol its packs speak."""
        if user_input is not None:
            self._wired = {CONF_PROTOCOL: user_input[CONF_PROTOCOL]}
            return await self.async_step_wired_port()
        return self.async_show_form(step_id="wired", data_schema=protocol_schema())

    async def async_step_wired_port(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The port and the baud rate; then the scan of the bus."""
        protocol = protocol_of(self._wired)
        errors: dict[str, str] = {}
        if user_input is not None:
            url = user_input[CONF_SERIAL_PORT].strip()
            baudrate = int(user_input[CONF_BAUDRATE])
            await self.async_set_unique_id(url, raise_on_progress=False)
            self._abort_if_unique_id_configured()
            self._scan, error = await async_scan(protocol, url, baudrate)
            if error is None:
                self._wired |= {CONF_SERIAL_PORT: url, CONF_BAUDRATE: baudrate}
                return await self.async_step_wired_packs()
            errors["base"] = error
        ports = await async_serial_ports(self.hass)
        return self.async_show_form(
            step_id="wired_port",
            data_schema=port_schema(protocol, ports, user_input),
            errors=errors,
            description_placeholders={"protocol": protocol.name},
        )

    async def async_step_wired_packs(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The packs that answered (or were heard): the user confirms them."""
        protocol = protocol_of(self._wired)
        scan = self._scan
        if scan is None:  # pragma: no cover - reached only through the scan
            return self.async_abort(reason="no_packs")
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_PACKS]:
                url = self._wired[CONF_SERIAL_PORT]
                return self.async_create_entry(
                    title=f"{protocol.name} ({port_label(self._wired)})",
                    data=bus_entry_data(
                        protocol,
                        url,
                        self._wired[CONF_BAUDRATE],
                        scan,
                        user_input[CONF_PACKS],
                    ),
                )
            errors[CONF_PACKS] = "no_pack_chosen"
        return self.async_show_form(
            step_id="wired_packs",
            data_schema=packs_schema(scan.packs),
            errors=errors,
            description_placeholders={"count": str(len(scan.packs))},
        )

    async def async_step_can(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A CAN bus: the interface, channel and bit rate; then listen."""
        errors: dict[str, str] = {}
        if user_input is not None:
            answers = can_answers(user_input)
            settings = can_settings(answers)
            await self.async_set_unique_id(
                f"{settings.interface}:{settings.channel}", raise_on_progress=False
            )
            self._abort_if_unique_id_configured()
            # An entry moved to this channel keeps its first channel's id.
            if channel_taken(self._async_current_entries(), answers):
                return self.async_abort(reason="already_configured")
            heard = await async_listen(settings)
            if isinstance(heard, Heard):
                self._heard, self._can = heard, answers
                return await self.async_step_can_confirm()
            errors["base"] = heard
        return self.async_show_form(
            step_id="can", data_schema=can_schema(user_input), errors=errors
        )

    async def async_step_can_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what was heard; one click adds the battery."""
        heard = self._heard
        if heard is None:  # pragma: no cover - reached only through the listening
            return self.async_abort(reason="no_devices_found")
        channel = self._can[CONF_CAN_CHANNEL]
        if user_input is not None:
            return self.async_create_entry(
                title=f"{heard.info.manufacturer} ({channel})",
                data={CONF_KIND: KIND_CAN, **heard.entry_data(self._can)},
            )
        snapshot = heard.snapshot
        return self.async_show_form(
            step_id="can_confirm",
            description_placeholders={
                "manufacturer": heard.info.manufacturer,
                "model": heard.info.model or "",
                "channel": channel,
                "voltage": f"{snapshot.voltage:.2f}",
                "soc": str(snapshot.state_of_charge),
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A bus's port, a bank's members, a CAN battery's adapter.

        A Bluetooth BMS has no setting but its address, its unique id.
        """
        entry = self._get_reconfigure_entry()
        kind = entry.data.get(CONF_KIND)
        if kind == KIND_BUS:
            return await self.async_step_reconfigure_bus()
        if kind == KIND_BANK:
            return await self.async_step_reconfigure_bank()
        if kind == KIND_CAN:
            return await self._async_reconfigure_can(entry, user_input)
        return self.async_abort(reason="reconfigure_not_supported")

    async def _async_reconfigure_can(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """A CAN battery's adapter: another interface, channel or bit rate.

        The entry keeps its unique id (its entities' ids derive from it). Its
        own adapter may be busy with it (a serial slcan port): then the entry
        is unloaded while the new settings are heard, and set up again if
        nothing was.
        """
        errors: dict[str, str] = {}
        if user_input is not None:
            answers = can_answers(user_input)
            if channel_taken(
                self._async_current_entries(), answers, but=entry.entry_id
            ):
                return self.async_abort(reason="already_configured")
            heard = await async_listen(can_settings(answers))
            if heard == "can_busy" and same_channel(entry.data, answers):
                await self.hass.config_entries.async_unload(entry.entry_id)
                heard = await async_listen(can_settings(answers))
                if not isinstance(heard, Heard):
                    await self.hass.config_entries.async_setup(entry.entry_id)
            if isinstance(heard, Heard):
                return self.async_update_reload_and_abort(
                    entry,
                    title=f"{heard.info.manufacturer} ({answers[CONF_CAN_CHANNEL]})",
                    # The JK address heard now, or none (a JK address kept
                    # from another bus would read the wrong pack).
                    data=heard.entry_data(answers, entry.data),
                )
            errors["base"] = heard
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=can_schema(user_input or dict(entry.data)),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def async_step_bank(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Combine configured packs wired in parallel or in series."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = bank_errors(user_input[CONF_MEMBERS])
            if not errors:
                return self.async_create_entry(
                    title=user_input[CONF_NAME], data=bank_entry_data(user_input)
                )
        schema = bank_schema(self._bms_entries())
        return self.async_show_form(step_id="bank", data_schema=schema, errors=errors)

    async def async_step_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a Bluetooth device in range that is not configured yet.

        Devices a family claims come first; any other is identified by probing.
        """
        errors: dict[str, str] = {}
        if user_input is not None:
            info = self._candidates[user_input[CONF_ADDRESS]]
            await self.async_set_unique_id(info.address, raise_on_progress=False)
            self._abort_if_unique_id_configured()
            result = await self._async_add_picked(info, user_input, errors)
            if result is not None:
                return result
        configured = {
            entry.unique_id for entry in self._bms_entries() if entry.unique_id
        }
        self._candidates = {
            info.address: info
            for info in sorted(
                async_discovered_service_info(self.hass, connectable=True),
                key=_claimed_first,
            )
            if info.address not in configured
        }
        if not self._candidates:
            return self.async_abort(reason="no_devices_found")
        schema: dict[Any, Any] = {
            vol.Required(CONF_ADDRESS): vol.In(
                {
                    address: f"{info.name or address} ({address})"
                    for address, info in self._candidates.items()
                }
            )
        }
        if _asks_password(errors):
            schema.update(PASSWORD_SCHEMA.schema)
        return self.async_show_form(
            step_id="device",
            data_schema=vol.Schema(schema),
            errors=errors,
            description_placeholders={
                "protocols": _supported_protocols(),
                **(self._brands() if self._family else {}),
            },
        )

    async def _async_add_picked(
        self,
        info: BluetoothServiceInfoBleak,
        user_input: Mapping[str, Any],
        errors: dict[str, str],
    ) -> ConfigFlowResult | None:
        """Add the picked device with its family, found by matchers or probing."""
        if info.address != self._address:
            driver = driver_for_advertisement(advertisement(info))
            self._address = info.address
            self._name = _title(info.name, info.address)
            self._family = driver.family if driver is not None else ""
        if self._family:
            return await self._async_create(user_input, errors)
        return await self._async_identify(info, errors)

    async def _async_identify(
        self, info: BluetoothServiceInfoBleak, errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Try each family over a connection; the first that answers is kept.

        A family that asks for a password or pairing has answered too: it is
        kept, and the form asks for what it needs.
        """
        for driver in _probe_order(info):
            try:
                async with asyncio.timeout(PROBE_TIMEOUT):
                    _, variant = await async_probe(
                        self.hass, info.address, driver.family, {}
                    )
            except AuthenticationError:
                self._family = driver.family
                errors["base"] = "invalid_auth"
                return None
            except PairingRequiredError:
                self._family = driver.family
                errors["base"] = "pairing_required"
                return None
            except (BmsError, TimeoutError):
                continue
            self._family = driver.family
            data = {CONF_ADDRESS: self._address, CONF_FAMILY: self._family}
            if variant:
                data[CONF_VARIANT] = variant
            return self.async_create_entry(title=self._name, data=data)
        errors["base"] = "no_supported_protocol"
        return None

    async def _async_create(
        self, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Test the connection; create the entry, or fill ``errors``."""
        options: dict[str, Any] = {}
        if password := user_input.get(CONF_PASSWORD):
            if not _password_fits(self._family, password):
                errors[CONF_PASSWORD] = "invalid_password"
                return None
            options[CONF_PASSWORD] = password
        try:
            _, variant = await async_probe(
                self.hass, self._address, self._family, options
            )
        except AuthenticationError:
            errors["base"] = "invalid_auth"
            return None
        except PairingRequiredError:
            errors["base"] = "pairing_required"
            return None
        except BmsError:
            return await self._async_fallback(options, errors)
        data = {CONF_ADDRESS: self._address, CONF_FAMILY: self._family}
        if variant:
            data[CONF_VARIANT] = variant
        return self.async_create_entry(title=self._name, data=data, options=options)

    async def _async_fallback(
        self, options: dict[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """The claimed family did not answer: probe the brand's other boards.

        The first that answers is added, and the flow says which brand it is;
        when none does, the error names them all.
        """
        claimed = driver_by_family(self._family)
        for family in claimed.probe_also:
            try:
                _, variant = await async_probe(
                    self.hass, self._address, family, options
                )
            except BmsError:
                continue
            data = {CONF_ADDRESS: self._address, CONF_FAMILY: family}
            if variant:
                data[CONF_VARIANT] = variant
            return self.async_create_entry(
                title=self._name,
                data=data,
                options=options,
                description="found_other",
                description_placeholders={
                    "name": self._name,
                    "claimed": _brand(claimed),
                    "brand": _brand(driver_by_family(family)),
                },
            )
        errors["base"] = (
            "no_answer_as_brand" if claimed.probe_also else "cannot_connect"
        )
        return None

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The BMS refused the password (or needs one)."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the BMS password and test it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None and not _password_fits(
            entry.data[CONF_FAMILY], user_input[CONF_PASSWORD]
        ):
            errors[CONF_PASSWORD] = "invalid_password"
        elif user_input is not None:
            options = {**entry.options, CONF_PASSWORD: user_input[CONF_PASSWORD]}
            try:
                await async_probe(
                    self.hass,
                    entry.data[CONF_ADDRESS],
                    entry.data[CONF_FAMILY],
                    options,
                )
            except AuthenticationError:
                errors["base"] = "invalid_auth"
            except BmsError:
                errors["base"] = "cannot_connect"
            else:
                return self.async_update_reload_and_abort(entry, options=options)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_PASSWORD): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    )
                }
            ),
            errors=errors,
            description_placeholders={"name": entry.title},
        )


class LithiumBmsOptionsFlow(OptionsFlowWithReload):
    """Update interval, connection policy, password, current sign."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the options; the entry reloads afterwards."""
        errors: dict[str, str] = {}
        # A CAN entry has no family: no password, no connection to keep.
        family: str | None = self.config_entry.data.get(CONF_FAMILY)
        if user_input is not None:
            user_input[CONF_UPDATE_INTERVAL] = int(user_input[CONF_UPDATE_INTERVAL])
            password = user_input.get(CONF_PASSWORD)
            try:
                thresholds_from_options(user_input)
            except ValueError:
                errors["base"] = "invalid_thresholds"
            if password and family and not _password_fits(family, password):
                errors[CONF_PASSWORD] = "invalid_password"
            if not errors:
                return self.async_create_entry(data=user_input)
        options = user_input or self.config_entry.options
        # Offered only to families that have a password.
        password_field: dict[Any, Any] = {}
        if family and driver_by_family(family).password_pattern is not None:
            password_field[
                vol.Optional(
                    CONF_PASSWORD,
                    description={"suggested_value": options.get(CONF_PASSWORD)},
                )
            ] = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
        keep_field: dict[Any, Any] = {}
        if family:
            keep_field[
                vol.Required(
                    CONF_KEEP_CONNECTED,
                    default=options.get(CONF_KEEP_CONNECTED, DEFAULT_KEEP_CONNECTED),
                )
            ] = BooleanSelector()
        schema = vol.Schema(
            {
                **interval_field(options),
                **keep_field,
                **invert_current_field(options),
                **password_field,
                # Offered once the BMS is the master of a bank it reports.
                **(
                    wiring_field(options)
                    if self.config_entry.data.get(CONF_PACKS)
                    else {}
                ),
                **analytics_fields(options),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)
