"""Brand images come from the integration's own brand folder, not the internet."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

BRAND = Path(__file__).parents[1] / "custom_components" / "lithium_bms" / "brand"
# Each image the frontend asks for, and the file of ours that answers it.
SERVED = {
    "icon.png": "icon.png",
    "icon@2x.png": "icon@2x.png",
    "logo.png": "logo.png",
    "logo@2x.png": "logo@2x.png",
    "dark_icon.png": "icon.png",
}

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("homeassistant.components.brands") is None,
    reason=(
        "this Home Assistant has no brands integration (it came in 2026.3); "
        "before it the frontend loads brand images from brands.home-assistant.io"
    ),
)


@pytest.mark.parametrize(("image", "file"), SERVED.items())
async def test_brand_image_is_served_from_the_brand_folder(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    image: str,
    file: str,
) -> None:
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    response = await client.get(f"/api/brands/integration/lithium_bms/{image}")
    assert response.status == 200
    assert await response.read() == (BRAND / file).read_bytes()
    assert aioclient_mock.call_count == 0, "no request left this machine"
