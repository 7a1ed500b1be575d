"""End-to-end tests: a real Home Assistant process, not phacc's ``hass``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from .realhass import RealHass, StartHass, make_config


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the top-level fixture that would start an in-process HA."""


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Allow sockets; pytest-socket still limits connections to 127.0.0.1."""


@pytest.fixture
async def start_hass(tmp_path: Path) -> AsyncIterator[StartHass]:
    """Start Home Assistant on a fresh copy of the dev configuration.

    ``sim_yaml`` replaces the simulator configuration. Whatever happens, every
    process started here is killed (with its process group) at the end.
    """
    started: list[RealHass] = []
    async with aiohttp.ClientSession() as session:

        async def _start(sim_yaml: str | None = None) -> RealHass:
            config_dir = tmp_path / f"config{len(started)}"
            token = await make_config(config_dir, sim_yaml)
            hass = RealHass(config_dir, tmp_path / "hass.log", token, session)
            started.append(hass)
            hass.start()
            await hass.wait_running()
            await hass.confirm_http_config()
            return hass

        try:
            yield _start
        finally:
            for hass in started:
                hass.kill()
