"""Write manifest.json's Bluetooth matchers from the drivers (the source of truth)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.lithium_bms.protocol.registry import DRIVERS  # noqa: E402

MANIFEST = ROOT / "custom_components" / "lithium_bms" / "manifest.json"


def matchers() -> list[dict[str, object]]:
    """Every driver's matchers, deduplicated, in driver order."""
    found: list[dict[str, object]] = []
    for driver in DRIVERS:
        for matcher in driver.matchers:
            entry = matcher.as_manifest()
            if entry not in found:
                found.append(entry)
    return found


def main() -> None:
    """Rewrite the manifest in place."""
    manifest = json.loads(MANIFEST.read_text())
    manifest["bluetooth"] = matchers()
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
