"""Print the requirements file of the tests on the newest Home Assistant.

Run by scripts/newest_ha/lib.sh with the chroot's Python, from the repository
root; it installs what this prints whenever that changes. The file holds:

- Home Assistant's constraints, so that its pins win;
- the project's requirement files for tools and tests: they pin what the
  oldest supported Home Assistant ships, so a package that Home Assistant
  constrains is named without a version, any other line stays as it is;
- the integrations' own manifest requirements, which Home Assistant installs
  under the same constraints (a conflict fails here as it would there);
- the requirements of the Home Assistant components the project loads, which
  phcc does not install: what Home Assistant sets up by itself, the
  development configuration's integrations and the manifests' dependencies,
  each with its dependencies.
"""

import json
import re
from pathlib import Path

from homeassistant import bootstrap

PROJECT_REQUIREMENTS = ("requirements_dev.txt", "requirements_e2e.txt")
MANIFESTS = (
    "custom_components/lithium_bms/manifest.json",
    "dev/custom_components/lithium_bms_sim/manifest.json",
)
DEV_CONFIGURATION = Path("dev/config/configuration.yaml")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
TOP_LEVEL_KEY = re.compile(r"^([a-z0-9_]+):", re.MULTILINE)


def canonical(line: str) -> str | None:
    """The normalised package name of a requirement line, if it has one."""
    match = NAME.match(line.split("#", 1)[0])
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def component_requirements(components: Path, roots: set[str]) -> list[str]:
    """Requirements of ``roots`` and their dependencies, Home Assistant's only."""
    seen: set[str] = set()
    requirements: list[str] = []
    pending = sorted(roots)
    while pending:
        domain = pending.pop()
        manifest = components / domain / "manifest.json"
        if domain in seen or not manifest.is_file():
            continue
        seen.add(domain)
        data = json.loads(manifest.read_text())
        requirements += data.get("requirements", [])
        pending += data.get("dependencies", [])
    return requirements


def main() -> None:
    """Print the requirements file."""
    package = Path(bootstrap.__file__).parent
    constraints = package / "package_constraints.txt"
    print(f"-c {constraints}")
    pinned = {canonical(line) for line in constraints.read_text().splitlines()}
    for path in PROJECT_REQUIREMENTS:
        for line in Path(path).read_text().splitlines():
            name = canonical(line)
            if name is not None:
                print(name if name in pinned else line)
    roots = bootstrap.CORE_INTEGRATIONS | bootstrap.DEFAULT_INTEGRATIONS
    roots |= set(TOP_LEVEL_KEY.findall(DEV_CONFIGURATION.read_text()))
    for path in MANIFESTS:
        manifest = json.loads(Path(path).read_text())
        for requirement in manifest.get("requirements", []):
            print(requirement)
        roots.update(manifest.get("dependencies", []))
    components = package / "components"
    for requirement in sorted(set(component_requirements(components, roots))):
        print(requirement)


if __name__ == "__main__":
    main()
