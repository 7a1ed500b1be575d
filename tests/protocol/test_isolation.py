"""The protocol and analytics packages must stay free of Home Assistant."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from bms_simulator.standalone import PACKAGE

ROOT = Path(__file__).parents[2]
INTEGRATION = ROOT / "custom_components" / "lithium_bms"
PACKAGES = ("protocol", "analytics")
# Every module of those packages and of their subpackages, at any depth.
MODULES = sorted(p for name in PACKAGES for p in (INTEGRATION / name).rglob("*.py"))


def _id(module: Path) -> str:
    return str(module.relative_to(INTEGRATION))


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


def test_packages_have_modules() -> None:
    found = {_id(m) for m in MODULES}
    assert {
        "protocol/registry.py",
        "protocol/client.py",
        "protocol/jbd/driver.py",
    } <= found
    assert {"analytics/bank.py", "analytics/soc.py"} <= found


@pytest.mark.parametrize("module", MODULES, ids=[_id(m) for m in MODULES])
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


def test_packages_alone_load_no_homeassistant() -> None:
    # Load every module without running the integration's __init__, as a
    # library user outside Home Assistant would.
    loaded = _modules_after(
        "import importlib, pkgutil\n"
        "from bms_simulator.standalone import register_empty_package\n"
        "register_empty_package()\n"
        f"for name in {PACKAGES!r}:\n"
        f"    package = importlib.import_module('{PACKAGE}.' + name)\n"
        "    prefix = package.__name__ + '.'\n"
        "    for module in pkgutil.walk_packages(package.__path__, prefix):\n"
        "        importlib.import_module(module.name)\n"
    )
    dotted = (_id(m).removesuffix(".py").replace("/", ".") for m in MODULES)
    expected = {f"{PACKAGE}.{name}".removesuffix(".__init__") for name in dotted}
    assert expected <= loaded
    assert not {m for m in loaded if m.split(".")[0] == "homeassistant"}
