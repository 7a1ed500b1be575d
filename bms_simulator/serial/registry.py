"""Every simulated wired protocol, with a ready-made pack for each.

A family simulator module that speaks on a wire exports ``WIRED_DEMOS``: the
key of each of its wired protocols (``protocol/<family>/wired.py``) mapped to
a factory of a responder at a bus address. A wired protocol joins the
development bus, the tests and the benchmark by that table alone.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from .. import families
from .responders import Responder

type WiredDemoFactory = Callable[[int], Responder]


def _wired_demos() -> dict[str, WiredDemoFactory]:
    """Wired protocol key -> factory of its demo pack at an address."""
    found: dict[str, WiredDemoFactory] = {}
    for module in sorted(pkgutil.iter_modules(families.__path__)):
        simulator = importlib.import_module(f"{families.__name__}.{module.name}")
        found.update(getattr(simulator, "WIRED_DEMOS", {}))
    return found


WIRED_DEMOS: dict[str, WiredDemoFactory] = _wired_demos()
