"""Protocol tests run without a Home Assistant instance.

They also run where Home Assistant is not installed (the bleak 3.x pass of
``scripts/test``, with ``--confcutdir`` so that the top-level conftest, which
imports Home Assistant, is not loaded).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bms_simulator.standalone import without_home_assistant

without_home_assistant()

# Imports the protocol package: only once Home Assistant is out of the way.
from .sim_clients import SimClients  # noqa: E402


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the top-level fixture that would start Home Assistant."""


@pytest.fixture
async def sim_clients() -> AsyncIterator[SimClients]:
    """Clients on simulated devices, closed when the test ends."""
    clients = SimClients()
    yield clients
    await clients.close()
