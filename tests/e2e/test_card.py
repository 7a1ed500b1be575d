"""The battery card in headless Chromium against a real Home Assistant.

One start of Home Assistant serves every check: a 4S, a 16S and a 24S pack and
a bank of three wired packs, each on its own dashboard view, in light and
dark and at phone width; a switch toggled from the card shows the state read
back, and a refused command shows its error; the 4S pack's card shows today's
energy in and out from the recorder's statistics. Screenshots go to
.dev/screenshots (git-ignored; the README's are copied to docs/images/card/).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from .realhass import RealHass, StartHass
from .test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXTERNAL,
    SCREENSHOTS,
    UI_TIMEOUT_MS,
    offline,
    require_chromium,
)
from .test_real_hass import DOMAIN, FLOW_TIMEOUT, discovery_flows, loaded_entries

pytestmark = pytest.mark.timeout(300)

DASHBOARD = "battery-cards"
ENTITY_TIMEOUT = 90.0
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 1000}
CARD = "lithium-bms-card"

# Today's energy of the 4S pack (in kWh) as its statistics say, the card's labels,
# and what the pack may charge between the recorder's first 5-minute statistics
# and the card's question (12.5 A at 13 V: a few Wh a minute).
ENERGY_VIEW = "pack4"
TODAY = {"charge_energy": 1.25, "discharge_energy": 0.75}
ENERGY_LABELS = {"charge_energy": "Today in", "discharge_energy": "Today out"}
CHARGED_SINCE = 0.05


def cells(count: int, low: float = 3.300) -> list[float]:
    """``count`` cells a millivolt apart, the first one ``low``."""
    return [round(low + 0.001 * i, 3) for i in range(count)]


# The 24S pack is out of balance (80 mV in the middle window) with a
# protection active; the 4S pack balances one cell.
PACKS: dict[str, dict[str, Any]] = {
    "pack4": {
        "family": "jbd",
        "cells": 4,
        "pack": {
            "cell_voltages": [3.301, 3.322, 3.299, 3.305],
            "current": 12.5,
            "soc": 64,
            "balancing_cells": [2],
        },
    },
    "pack16": {
        "family": "jk",
        "cells": 16,
        "pack": {"cell_voltages": cells(16), "current": -18.2, "soc": 41},
    },
    "pack24": {
        "family": "ant",
        "cells": 24,
        "pack": {
            "cell_voltages": [*cells(23, 3.31), 3.23],
            "current": -4.0,
            "soc": 55,
            "alarms": ["charge_overtemperature"],
            "balancing_cells": [5],
        },
    },
}


def sim_yaml() -> str:
    """The three packs, no dynamics, and the development wired bus."""
    devices = [{"family": p["family"], "pack": p["pack"]} for p in PACKS.values()]
    # A JSON value is YAML; the bus's port comes from the test's environment.
    return (
        "dynamics: false\n"
        f"devices: {json.dumps(devices)}\n"
        "wired:\n"
        "  protocol: pace\n"
        "  port: !env_var HASS_DEV_WIRED_PORT 8899\n"
        "  addresses: [1, 2, 3]\n"
    )


async def add_everything(hass: RealHass) -> dict[str, str]:
    """Add the discovered packs and the wired bus; view path -> device id."""
    sims = await hass.ws("lithium_bms_sim/devices")
    by_family = {s["family"]: s for s in sims}
    flows = await hass.until(
        lambda: discovery_flows(hass, {s["address"] for s in sims}),
        "the discovery flows",
        FLOW_TIMEOUT,
    )
    for sim in sims:
        flow_id = flows[sim["address"]]["flow_id"]
        result = await hass.rest(
            "POST", f"/api/config/config_entries/flow/{flow_id}", {}
        )
        assert result["type"] == "create_entry", result

    flow = await hass.rest(
        "POST", "/api/config/config_entries/flow", {"handler": DOMAIN}
    )
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    await hass.rest("POST", path, {"next_step_id": "wired"})
    await hass.rest("POST", path, {"protocol": "pace"})
    url = f"socket://127.0.0.1:{hass.wired_port}"
    await hass.rest("POST", path, {"serial_port": url, "baudrate": "9600"})
    flow = await hass.rest("POST", path, {"packs": ["1", "2", "3"]})
    assert flow["type"] == "create_entry", flow
    bus_entry = flow["result"]["entry_id"]
    await hass.until(lambda: loaded_entries(hass, 4), "loaded entries", FLOW_TIMEOUT)

    devices = await hass.ws("config/device_registry/list")
    found = {
        view: next(
            d["id"] for d in devices if d["name"] == by_family[p["family"]]["name"]
        )
        for view, p in PACKS.items()
    }
    found["bank"] = next(
        d["id"]
        for d in devices
        if bus_entry in d["config_entries"] and d["via_device_id"] is None
    )
    return found


async def make_dashboard(hass: RealHass, devices: dict[str, str]) -> None:
    """A dashboard with one view per device, each holding the card."""
    await hass.ws(
        "lovelace/dashboards/create",
        url_path=DASHBOARD,
        title="Battery cards",
        mode="storage",
    )
    views = [
        {
            "title": view,
            "path": view,
            "cards": [{"type": f"custom:{CARD}", "device": device_id}],
        }
        for view, device_id in devices.items()
    ]
    await hass.ws("lovelace/config/save", url_path=DASHBOARD, config={"views": views})


async def ready(hass: RealHass, devices: dict[str, str]) -> bool:
    """Every value the card shows is known: each pack's cells, each bank pack's SOC."""
    states = {s["entity_id"]: s["state"] for s in await hass.rest("GET", "/api/states")}

    def known(entity_id: str | None) -> bool:
        return states.get(entity_id or "") not in (None, "unknown", "unavailable")

    for view, device_id in devices.items():
        info = await hass.ws(f"{DOMAIN}/card", device_id=device_id)
        keys = info["entities"]
        if view == "bank":
            members = info["members"]
            if len(members) != 3 or not all(
                known(m["entities"].get("state_of_charge")) for m in members
            ):
                return False
            continue
        count = PACKS[view]["cells"]
        if not all(known(keys.get(f"cell_voltage_{i}")) for i in range(1, count + 1)):
            return False
    return True


def noon_offset(now: datetime) -> int:
    """The whole-hour UTC offset (-12 to +11) at which it is noon at ``now``."""
    return (24 - now.hour) % 24 - 12


def hours_today(offset: int) -> list[datetime]:
    """The starts of the hours from the one before midnight to the last full one."""
    now = datetime.now(timezone(timedelta(hours=offset)))
    hour = now.replace(minute=0, second=0, microsecond=0)
    starts = [hour.replace(hour=0) - timedelta(hours=1)]
    while starts[-1] < hour - timedelta(hours=1):
        starts.append(starts[-1] + timedelta(hours=1))
    return starts


async def change_today(hass: RealHass, entity_id: str) -> float | None:
    """Home Assistant's answer to the card's question, in kWh."""
    result = await hass.ws(
        "recorder/statistic_during_period",
        statistic_id=entity_id,
        calendar={"period": "day"},
        types=["change"],
        units={"energy": "kWh"},
    )
    change = result.get("change")
    return change if isinstance(change, float) else None


async def import_today(hass: RealHass, device_id: str) -> None:
    """Give the pack's energy totals statistics: ``TODAY`` since midnight.

    Home Assistant's time zone moves to where it is noon, so that today holds
    full hours however soon after midnight the test runs. The recorder's own
    5-minute statistics of a fresh sensor start their sum at 0, so the imported
    sums lead up to 0: today's change is the same whether the newest sum Home
    Assistant finds is the last hour's or a 5-minute one. Then the discharge
    total is shown in Wh, which the card must still show in kWh.
    """
    offset = noon_offset(datetime.now(UTC))
    await hass.ws("config/core/update", time_zone=f"Etc/GMT{-offset:+d}")
    entities = (await hass.ws(f"{DOMAIN}/card", device_id=device_id))["entities"]
    starts = hours_today(offset)
    for key, change in TODAY.items():
        await hass.ws(
            "recorder/import_statistics",
            metadata={
                "has_mean": False,
                "mean_type": 0,
                "has_sum": True,
                "name": None,
                "source": "recorder",
                "statistic_id": entities[key],
                "unit_class": "energy",
                "unit_of_measurement": "kWh",
            },
            stats=[
                {
                    "start": start.isoformat(),
                    "sum": change * (i / (len(starts) - 1) - 1),
                }
                for i, start in enumerate(starts)
            ],
        )

        async def imported(entity_id: str = entities[key], low: float = change) -> bool:
            answer = await change_today(hass, entity_id)
            return answer is not None and low <= answer < low + CHARGED_SINCE

        await hass.until(imported, f"the statistics of {entities[key]}", FLOW_TIMEOUT)

    # After the import, so that the recorder's statistics stay in kWh.
    discharge = entities["discharge_energy"]
    await hass.ws(
        "config/entity_registry/update",
        entity_id=discharge,
        options_domain="sensor",
        options={"unit_of_measurement": "Wh"},
    )

    async def in_wh() -> bool:
        state = await hass.rest("GET", f"/api/states/{discharge}")
        return bool(state["attributes"].get("unit_of_measurement") == "Wh")

    await hass.until(in_wh, f"{discharge} in Wh", FLOW_TIMEOUT)


async def check_energy(card: Any) -> None:
    """Today's energy in and out as imported, in kWh."""
    for key, label in ENERGY_LABELS.items():
        value = card.locator(".value").filter(has_text=label).locator(".big")
        await expect(value).to_have_text(re.compile(r"^\d+\.\d\d kWh$"))
        shown = float((await value.inner_text()).removesuffix(" kWh"))
        assert TODAY[key] <= shown < TODAY[key] + CHARGED_SINCE, (label, shown)


async def login(browser: Browser, hass: RealHass, **options: Any) -> Page:
    """A logged-in page in a new context (offline: nothing leaves 127.0.0.1)."""
    context = await browser.new_context(locale="en-US", **options)
    await context.route(EXTERNAL, offline)
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.goto(hass.url + "/")
    await page.get_by_role("textbox", name="Username").fill("dev")
    await page.get_by_role("textbox", name="Password").fill("dev")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("ha-sidebar")).to_be_visible()
    return page


async def open_view(page: Page, hass: RealHass, view: str) -> Any:
    """Open a view; return its card once its values are shown."""
    await page.goto(f"{hass.url}/{DASHBOARD}/{view}")
    card = page.locator(CARD)
    await expect(card.locator("ha-card")).to_be_visible()
    await expect(card.get_by_text("Loading…")).to_have_count(0)
    return card


async def shot(card: Any, name: str) -> None:
    """A screenshot of the card alone."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await card.screenshot(path=SCREENSHOTS / f"card-{name}.png")


async def simulator(hass: RealHass, family: str) -> dict[str, Any]:
    return next(
        s for s in await hass.ws("lithium_bms_sim/devices") if s["family"] == family
    )


async def check_pack(card: Any, view: str) -> None:
    """Cells, their marks, flow, alarms and imbalance as the pack's values say."""
    count = PACKS[view]["cells"]
    await expect(card.locator(".cell")).to_have_count(count)
    await expect(card.locator(".cell.unavailable")).to_have_count(0)
    await expect(card.locator(".cell.min")).to_have_count(1)
    await expect(card.locator(".cell.max")).to_have_count(1)
    await expect(card.locator(".soc")).to_contain_text(
        f"{PACKS[view]['pack']['soc']} %"
    )
    direction = "Charging" if PACKS[view]["pack"]["current"] > 0 else "Discharging"
    await expect(card.get_by_text(direction, exact=True)).to_be_visible()
    if balancing := PACKS[view]["pack"].get("balancing_cells"):
        name = re.compile(rf"^Cell {balancing[0]}: .*balancing")
        await expect(card.get_by_role("img", name=name)).to_be_visible()


async def select_language(page: Page, language: str) -> None:
    """Pick the user's language as the profile page does, and wait for it."""
    await page.evaluate(
        """(language) => document.querySelector("home-assistant").dispatchEvent(
            new CustomEvent("hass-language-select", {detail: language}))""",
        language,
    )
    await page.wait_for_function(
        """(language) =>
            document.querySelector("home-assistant").hass?.locale?.language
            === language""",
        arg=language,
    )


async def test_the_battery_card(start_hass: StartHass) -> None:
    require_chromium()
    expect.set_options(timeout=UI_TIMEOUT_MS)
    hass = await start_hass(sim_yaml())
    devices = await add_everything(hass)
    await hass.until(
        lambda: ready(hass, devices), "every value the cards show", ENTITY_TIMEOUT
    )
    # Before the dashboard opens: the card asks for today's energy when it loads.
    await import_today(hass, devices[ENERGY_VIEW])
    await make_dashboard(hass, devices)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await login(browser, hass, viewport=DESKTOP)
            # The card picker lists the card ("Add card -> Lithium BMS battery").
            picker = await page.evaluate(
                "() => (window.customCards || []).map((c) => [c.type, c.name])"
            )
            assert [CARD, "Lithium BMS battery"] in picker
            # ... in the language the user picks afterwards.
            await select_language(page, "de")
            picker = await page.evaluate(
                "() => (window.customCards || []).map((c) => [c.type, c.name])"
            )
            assert [CARD, "Lithium-BMS-Batterie"] in picker
            await select_language(page, "en")

            for view in PACKS:
                card = await open_view(page, hass, view)
                await check_pack(card, view)
                if view == ENERGY_VIEW:
                    await check_energy(card)
                await shot(card, f"{view}-light")
            card = await open_view(page, hass, "pack24")
            await expect(card.locator(".banner[role=alert]").first).to_contain_text(
                "Problem: Charge overtemperature"
            )
            await expect(card.get_by_text("Cells are out of balance")).to_be_visible()

            card = await open_view(page, hass, "bank")
            await expect(card.locator("tbody tr")).to_have_count(3)
            await expect(card.locator("tbody tr").first).to_contain_text("%")
            await shot(card, "bank-light")

            # A switch toggled from the card shows the state read back.
            card = await open_view(page, hass, "pack4")
            toggle = card.get_by_role("switch", name="Discharge MOSFET")
            await expect(toggle).to_have_attribute("aria-checked", "true")
            await toggle.focus()
            await page.keyboard.press("Enter")  # keyboard-reachable
            await expect(toggle).to_have_attribute("aria-checked", "false")
            assert not (await simulator(hass, "jbd"))["pack"]["discharge_enabled"]
            await expect(card.locator(".error")).to_have_count(0)
            # A command the BMS ignores: the error shows, the switch stays off.
            sim = await simulator(hass, "jbd")
            await hass.ws(
                "lithium_bms_sim/inject",
                address=sim["address"],
                fault="ignore_command",
                count=20,
            )
            await toggle.click()
            error = card.get_by_role("alert").filter(has_text="did not confirm")
            await expect(error).to_be_visible()
            await expect(toggle).to_have_attribute("aria-checked", "false")
            assert not (await simulator(hass, "jbd"))["pack"]["discharge_enabled"]
            await shot(card, "pack4-refused")

            dark = await login(browser, hass, viewport=DESKTOP, color_scheme="dark")
            for view in ("pack16", "bank"):
                card = await open_view(dark, hass, view)
                await expect(card.locator("ha-card")).to_be_visible()
                await shot(card, f"{view}-dark")
            background = await card.locator("ha-card").evaluate(
                "(el) => getComputedStyle(el).backgroundColor"
            )
            assert background != "rgb(255, 255, 255)", "the dark theme applies"

            phone = await login(browser, hass, viewport=DESKTOP, color_scheme="dark")
            await phone.set_viewport_size(PHONE)  # the sidebar hides when narrow
            card = await open_view(phone, hass, "pack24")
            await check_pack(card, "pack24")
            width = await card.evaluate("(el) => el.getBoundingClientRect().width")
            scroll = await card.locator("ha-card").evaluate("(el) => el.scrollWidth")
            assert width <= PHONE["width"]
            assert scroll <= width + 1, "nothing sticks out at phone width"
            # A tall phone, so that the toolbar covers none of the card.
            await phone.set_viewport_size({"width": PHONE["width"], "height": 1400})
            await shot(card, "pack24-phone-dark")
        finally:
            await browser.close()
    assert await hass.stop() == 0
