"""Create (or refresh) a development Home Assistant configuration directory.

On first use it copies ``dev/config``, creates the local login (an admin user),
marks onboarding as done and stores a long-lived access token in
``<config>/.dev-token`` for scripts and tests. Every use (re)links the
integration and the simulator integration into ``<config>/custom_components``
so that the running code is always the repository's, and writes the "Battery
cards" dashboard: the battery card of every demo device and of the wired bus.

Usage: python scripts/dev_config.py CONFIG_DIR [--username dev] [--password dev]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "dev" / "config"
INTEGRATIONS = (
    REPO / "custom_components" / "lithium_bms",
    REPO / "dev" / "custom_components" / "lithium_bms_sim",
)
TOKEN_FILE = ".dev-token"  # noqa: S105  (a file name)
DEFAULT_USERNAME = "dev"
DEFAULT_PASSWORD = "dev"  # noqa: S105  (documented local development login)
TOKEN_DAYS = 3650
DASHBOARD_FILE = "lithium_bms_cards.yaml"


def link_integrations(config_dir: Path) -> None:
    """Point ``custom_components/<domain>`` at the repository's code."""
    target_dir = config_dir / "custom_components"
    target_dir.mkdir(parents=True, exist_ok=True)
    for source in INTEGRATIONS:
        link = target_dir / source.name
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)
        link.symlink_to(source, target_is_directory=True)


def write_dashboard(config_dir: Path) -> None:
    """The battery card of each demo device and the bus, found by device name.

    A card shows its values once its device has been added.
    """
    sys.path[:0] = [str(REPO), str(REPO / "dev")]
    from custom_components.lithium_bms_sim.config import (  # noqa: PLC0415
        demo_address,
    )

    from bms_simulator.registry import DEMOS  # noqa: PLC0415

    # The names the development setup's demo devices advertise.
    names = sorted(
        DEMOS[family](demo_address(family, 0)).advertising.name for family in DEMOS
    )
    port = os.environ.get("HASS_DEV_WIRED_PORT", "8899")
    names.append(f"PACE (RS485) (socket://127.0.0.1:{port})")
    cards = [{"type": "custom:lithium-bms-card", "device": name} for name in names]
    dashboard = {"views": [{"title": "Batteries", "path": "batteries", "cards": cards}]}
    # JSON is YAML.
    text = json.dumps(dashboard, indent=2) + "\n"
    (config_dir / DASHBOARD_FILE).write_text(text, encoding="utf-8")


async def create_login(config_dir: Path, username: str, password: str) -> str:
    """Create the owner, mark onboarding done; return a long-lived token.

    Does what Home Assistant's onboarding does for its first user, offline,
    through Home Assistant's own auth manager and storage.
    """
    from homeassistant.auth import auth_manager_from_config  # noqa: PLC0415
    from homeassistant.auth.const import GROUP_ID_ADMIN  # noqa: PLC0415
    from homeassistant.auth.models import (  # noqa: PLC0415
        TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN,
    )
    from homeassistant.auth.providers.homeassistant import (  # noqa: PLC0415
        HassAuthProvider,
    )
    from homeassistant.components.onboarding.const import (  # noqa: PLC0415
        DOMAIN as ONBOARDING,
    )
    from homeassistant.components.onboarding.const import STEPS  # noqa: PLC0415
    from homeassistant.core import HomeAssistant  # noqa: PLC0415
    from homeassistant.helpers import device_registry as dr  # noqa: PLC0415
    from homeassistant.helpers import entity_registry as er  # noqa: PLC0415
    from homeassistant.helpers.storage import Store  # noqa: PLC0415

    hass = HomeAssistant(str(config_dir))
    # The auth store reads both registries: load them first, as Home
    # Assistant's start-up does (which from 2026.10 sets the device one up
    # before loading it).
    if hasattr(dr, "async_setup"):
        dr.async_setup(hass)
    await dr.async_load(hass)
    await er.async_load(hass)
    hass.auth = await auth_manager_from_config(hass, [{"type": "homeassistant"}], [])
    provider = hass.auth.auth_providers[0]
    assert isinstance(provider, HassAuthProvider)  # noqa: S101
    await provider.async_initialize()
    user = await hass.auth.async_create_user(
        username.title(), group_ids=[GROUP_ID_ADMIN]
    )
    await provider.async_add_auth(username, password)
    credentials = await provider.async_get_or_create_credentials({"username": username})
    await hass.auth.async_link_user(user, credentials)
    refresh_token = await hass.auth.async_create_refresh_token(
        user,
        client_name="scripts and end-to-end tests",
        token_type=TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN,
        access_token_expiration=timedelta(days=TOKEN_DAYS),
    )
    token = hass.auth.async_create_access_token(refresh_token)
    onboarding: Store[dict[str, list[str]]] = Store(
        hass, 4, ONBOARDING, private=True, atomic_writes=True
    )
    await onboarding.async_save({"done": list(STEPS)})
    # Stopping writes every store that delays its saves (auth does).
    await hass.async_stop(force=True)
    return token


def create(config_dir: Path, username: str, password: str) -> bool:
    """Create ``config_dir`` unless it exists; return whether it was created.

    It is built beside its final place and renamed at the end, so an
    interrupted run leaves nothing half-made behind.
    """
    if config_dir.exists():
        return False
    partial = config_dir.with_name(config_dir.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    shutil.copytree(TEMPLATE, partial)
    token = asyncio.run(create_login(partial, username, password))
    token_file = partial / TOKEN_FILE
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    partial.rename(config_dir)
    return True


def main() -> int:
    """Create or refresh the directory named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config_dir", type=Path)
    parser.add_argument("--username", default=DEFAULT_USERNAME)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    args = parser.parse_args()
    config_dir: Path = args.config_dir.resolve()
    if create(config_dir, args.username, args.password):
        print(f"Created {config_dir} (login {args.username!r})")
    link_integrations(config_dir)
    write_dashboard(config_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
