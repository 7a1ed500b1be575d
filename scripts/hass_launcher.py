"""Run Home Assistant (same arguments as ``hass``) for development and tests.

Two things differ from the ``hass`` command:
- Home Assistant 2026.2 refuses Python < 3.13.2 but runs on 3.13.0 and 3.13.1,
  so the required version is lowered to the running interpreter's;
- the repository's ``bms_simulator`` package is made importable for the
  simulator integration, without putting the repository itself on the path
  (its ``custom_components`` would shadow the configuration's).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parent.parent)


def main() -> int:
    """Start Home Assistant; return its exit code (100 asks for a restart)."""
    sys.path.insert(0, REPO)
    try:
        importlib.import_module("bms_simulator")
    finally:
        sys.path.remove(REPO)
    from homeassistant import __main__ as ha_main  # noqa: PLC0415

    ha_main.REQUIRED_PYTHON_VER = sys.version_info[:3]  # type: ignore[attr-defined]
    return ha_main.main()


if __name__ == "__main__":
    sys.exit(main())
