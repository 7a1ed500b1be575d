"""Protocol tests run without a Home Assistant instance."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the top-level fixture that would start Home Assistant."""
