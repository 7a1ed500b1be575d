"""The protocol package must stay free of Home Assistant."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROTOCOL = ROOT / "custom_components" / "lithium_bms" / "protocol"
MODULES = sorted(PROTOCOL.glob("*.py"))


def imported_names(source: str) -> set[str]:
    """Every absolute module name an import statement in ``source`` mentions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_imported_names_sees_every_form() -> None:
    source = (
        "import homeassistant\n"
        "import homeassistant.core as core\n"
        "from homeassistant.const import X\n"
        "from . import sibling\n"
        "def f():\n"
        "    from homeassistant.helpers import y\n"
    )
    assert imported_names(source) == {
        "homeassistant",
        "homeassistant.core",
        "homeassistant.const",
        "homeassistant.helpers",
    }


def test_package_has_modules() -> None:
    assert {"driver.py", "registry.py", "client.py"} <= {m.name for m in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_no_homeassistant_import(module: Path) -> None:
    names = imported_names(module.read_text())
    offending = {n for n in names if n.split(".")[0] == "homeassistant"}
    assert offending == set()


def _modules_after(code: str) -> set[str]:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(result.stdout.split())


def test_protocol_package_alone_loads_no_homeassistant() -> None:
    # Load the protocol package without running the integration's __init__,
    # as a library user outside Home Assistant would.
    stub_parent = (
        "import sys, types\n"
        "for name, path in (('custom_components', 'custom_components'),"
        " ('custom_components.lithium_bms', 'custom_components/lithium_bms')):\n"
        "    module = types.ModuleType(name)\n"
        "    module.__path__ = [path]\n"
        "    sys.modules[name] = module\n"
        "import custom_components.lithium_bms.protocol.registry\n"
        "import custom_components.lithium_bms.protocol.client\n"
    )
    loaded = _modules_after(stub_parent)
    assert "custom_components.lithium_bms.protocol.registry" in loaded
    assert not {m for m in loaded if m.split(".")[0] == "homeassistant"}
