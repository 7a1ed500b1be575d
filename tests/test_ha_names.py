"""Every Home Assistant name the integration uses exists in the newest release.

The suite runs on the oldest supported Home Assistant and on the newest that a
pytest-homeassistant-custom-component release pins (scripts/test); users also
run the release after that. This test reads that release's modules from its
wheel with ast (nothing is imported and no such Home Assistant is installed;
parsing its code takes Python 3.14) and checks every name the integration
imports from ``homeassistant``, every attribute it takes of an imported Home
Assistant module, and every member it takes of a Home Assistant enum.
"""

from __future__ import annotations

import ast
import enum
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

CHECKED_VERSION = "2026.11.0"
INTEGRATION = Path(__file__).resolve().parents[1] / "custom_components" / "lithium_bms"
# Outside the clone, so that every clone reuses the download.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lithium-bms"
ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum", "Flag", "IntFlag"})
# What every member of an enum has (value, name, str and int methods, ...).
ENUM_ATTRIBUTES = frozenset(dir(enum.StrEnum) + dir(enum.IntFlag))


class Release:
    """The modules of one Home Assistant wheel, parsed on demand."""

    def __init__(self, wheel: zipfile.ZipFile) -> None:
        self._wheel = wheel
        self._files = set(wheel.namelist())
        self._parsed: dict[str, ast.Module | None] = {}

    def _file(self, module: str) -> str | None:
        base = module.replace(".", "/")
        return next(
            (f for f in (f"{base}.py", f"{base}/__init__.py") if f in self._files),
            None,
        )

    def is_module(self, module: str) -> bool:
        """Whether ``module`` exists in the release."""
        return self._file(module) is not None

    def _tree(self, module: str) -> ast.Module | None:
        if module not in self._parsed:
            file = self._file(module)
            self._parsed[module] = (
                None if file is None else ast.parse(self._wheel.read(file), file)
            )
        return self._parsed[module]

    def _bindings(self, module: str) -> dict[str, ast.AST]:
        """Top-level names of ``module`` and the statement binding each."""
        tree = self._tree(module)
        found: dict[str, ast.AST] = {}
        pending: list[ast.AST] = list(tree.body) if tree else []
        while pending:
            node = pending.pop()
            if isinstance(node, ast.If | ast.Try | ast.With | ast.ExceptHandler):
                pending.extend(ast.iter_child_nodes(node))
            elif isinstance(
                node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ):
                found[node.name] = node
            elif isinstance(node, ast.TypeAlias):
                found[node.name.id] = node
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    found[(alias.asname or alias.name).split(".")[0]] = node
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = (
                    node.targets if isinstance(node, ast.Assign) else [node.target]
                )
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            found[name.id] = node
        return found

    def has(self, module: str, name: str) -> bool:
        """Whether ``from module import name`` works."""
        return name in self._bindings(module) or self.is_module(f"{module}.{name}")

    def enum_members(self, module: str, name: str) -> frozenset[str] | None:
        """The members and methods of enum ``name`` in ``module``, else None.

        Follows re-exports (``from .const import X``) inside Home Assistant
        and aliases (``Platform = EntityPlatforms``).
        """
        node = self._bindings(module).get(name)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            return self.enum_members(module, node.value.id)
        if isinstance(node, ast.ImportFrom):
            alias = next(a for a in node.names if (a.asname or a.name) == name)
            source = _absolute(module, self._file(module) or "", node)
            if source.startswith("homeassistant") and self.is_module(source):
                return self.enum_members(source, alias.name)
            return None
        if not isinstance(node, ast.ClassDef):
            return None
        bases = {b.id if isinstance(b, ast.Name) else "" for b in node.bases}
        if not bases & ENUM_BASES:
            return None
        members = {
            n.id
            for stmt in node.body
            for n in ast.walk(stmt)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        members |= {
            stmt.name
            for stmt in node.body
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        return frozenset(members)


def _absolute(module: str, file: str, node: ast.ImportFrom) -> str:
    """The absolute module a (possibly relative) ``from ... import`` names."""
    if not node.level:
        return node.module or ""
    package = module if file.endswith("__init__.py") else module.rpartition(".")[0]
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


@dataclass(frozen=True)
class _Module:
    path: str


@dataclass(frozen=True)
class _Name:
    module: str
    name: str


class _Checker:
    """Checks the Home Assistant references of source files against a release."""

    def __init__(self, release: Release) -> None:
        self.release = release
        self.problems: set[str] = set()
        self.checked: set[str] = set()
        self._bound: dict[str, _Module | _Name] = {}

    def check_file(self, file: str, code: str) -> None:
        tree = ast.parse(code, file)
        self._bound = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                self._import(f"{file}:{node.lineno}", node)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                self._import_from(f"{file}:{node.lineno}", node)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                self._resolve(node, f"{file}:{node.lineno}")

    def _has(self, where: str, module: str, name: str) -> None:
        self.checked.add(f"{where} {module}.{name}")
        if not self.release.has(module, name):
            self.problems.add(f"{where}: {module} has no {name}")

    def _import(self, where: str, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] != "homeassistant":
                continue
            self.checked.add(f"{where} {alias.name}")
            if not self.release.is_module(alias.name):
                self.problems.add(f"{where}: no module {alias.name}")
            # "import homeassistant.a.b" binds homeassistant itself.
            local = alias.asname or "homeassistant"
            self._bound[local] = _Module(alias.name if alias.asname else local)

    def _import_from(self, where: str, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] != "homeassistant":
            return
        for alias in node.names:
            self._has(where, module, alias.name)
            full = f"{module}.{alias.name}"
            self._bound[alias.asname or alias.name] = (
                _Module(full)
                if self.release.is_module(full)
                else _Name(module, alias.name)
            )

    def _resolve(self, node: ast.expr, where: str) -> _Module | _Name | None:
        """What ``node`` refers to; checks each attribute taken on the way."""
        if isinstance(node, ast.Name):
            return self._bound.get(node.id)
        if not isinstance(node, ast.Attribute):
            return None
        base = self._resolve(node.value, where)
        if isinstance(base, _Module):
            if self.release.is_module(f"{base.path}.{node.attr}"):
                return _Module(f"{base.path}.{node.attr}")
            self._has(where, base.path, node.attr)
            return _Name(base.path, node.attr)
        if isinstance(base, _Name):
            members = self.release.enum_members(base.module, base.name)
            if members is not None:
                self.checked.add(f"{where} {base.name}.{node.attr}")
                if node.attr not in members | ENUM_ATTRIBUTES:
                    self.problems.add(f"{where}: {base.name} has no member {node.attr}")
        return None


def missing_names(release: Release, sources: dict[str, str]) -> tuple[list[str], int]:
    """What ``sources`` (file name: code) use that ``release`` lacks.

    Returns the problems, one line each, and the number of references checked.
    """
    checker = _Checker(release)
    for file, code in sources.items():
        checker.check_file(file, code)
    return sorted(checker.problems), len(checker.checked)


@pytest.fixture(scope="module")
def release() -> Release:
    """Home Assistant's wheel, downloaded once into the cache."""
    if sys.version_info < (3, 14):
        # Its modules use syntax that older Pythons cannot parse (PEP 758).
        pytest.skip(f"Home Assistant {CHECKED_VERSION} is read on Python 3.14 only")
    wheel = CACHE / f"homeassistant-{CHECKED_VERSION}-py3-none-any.whl"
    if not wheel.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            # Only read, never installed: the Python it asks for does not matter.
            result = subprocess.run(  # noqa: S603  (pip, fixed arguments)
                [
                    *(sys.executable, "-m", "pip", "download", "--no-deps"),
                    *("--only-binary=:all:", "--ignore-requires-python"),
                    *("--timeout", "20", "--retries", "1", "--dest", tmp),
                    f"homeassistant=={CHECKED_VERSION}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            downloaded = Path(tmp) / wheel.name
            if result.returncode or not downloaded.exists():
                reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
                pytest.skip(
                    f"homeassistant=={CHECKED_VERSION} could not be downloaded "
                    f"(offline?): {reason}"
                )
            downloaded.replace(wheel)
    return Release(zipfile.ZipFile(wheel))


def test_names_exist_in_newest_release(release: Release) -> None:
    sources = {
        str(path.relative_to(INTEGRATION.parent.parent)): path.read_text()
        for path in sorted(INTEGRATION.rglob("*.py"))
    }
    problems, checked = missing_names(release, sources)
    assert problems == [], f"missing in Home Assistant {CHECKED_VERSION}"
    # The walk found the integration's Home Assistant references at all.
    assert checked > 100


def test_checker_reports_what_is_missing(release: Release) -> None:
    code = """
from homeassistant.const import Platform, NO_SUCH_CONSTANT
from homeassistant.helpers import device_registry as dr
from homeassistant.no_such_module import Thing
import homeassistant.util.dt

dr.async_get
dr.no_such_function
Platform.SENSOR
Platform.NO_SUCH_PLATFORM
homeassistant.util.dt.utcnow
homeassistant.util.dt.no_such_helper
"""
    problems, _ = missing_names(release, {"example.py": code})
    assert problems == [
        "example.py:10: Platform has no member NO_SUCH_PLATFORM",
        "example.py:12: homeassistant.util.dt has no no_such_helper",
        "example.py:2: homeassistant.const has no NO_SUCH_CONSTANT",
        "example.py:4: homeassistant.no_such_module has no Thing",
        "example.py:8: homeassistant.helpers.device_registry has no no_such_function",
    ]
