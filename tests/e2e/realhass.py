"""A real Home Assistant process, started like scripts/develop does, and its API.

Everything here is bounded: starting, stopping and every wait has a deadline,
and a failure carries the end of Home Assistant's log.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "scripts" / "hass_launcher.py"
DEV_CONFIG = REPO / "scripts" / "dev_config.py"

CONFIG_TIMEOUT = 120.0
START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 60.0
RESTART_EXIT_CODE = 100
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, however it dies."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def make_config(config_dir: Path, sim_yaml: str | None = None) -> str:
    """A fresh development configuration; returns its API token.

    The script takes seconds: it runs beside the event loop, not in it.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DEV_CONFIG),
        str(config_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(CONFIG_TIMEOUT):
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode:
        raise AssertionError(f"{DEV_CONFIG.name} failed:\n{output.decode()}")
    if sim_yaml is not None:
        (config_dir / "lithium_bms_sim.yaml").write_text(sim_yaml, encoding="utf-8")
    return (config_dir / ".dev-token").read_text(encoding="utf-8").strip()


class RealHass:
    """One Home Assistant process (restartable) and an API client for it."""

    def __init__(
        self,
        config_dir: Path,
        log_path: Path,
        token: str,
        session: aiohttp.ClientSession,
    ) -> None:
        """Prepare; nothing runs until :meth:`start`."""
        self.config_dir = config_dir
        self.log_path = log_path
        self.token = token
        self.session = session
        self.port = free_port()
        # The simulated wired bus of the development configuration.
        self.wired_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process in its own process group, logging to a file."""
        env = {
            **os.environ,
            "HASS_DEV_HOST": "127.0.0.1",
            "HASS_DEV_PORT": str(self.port),
            "HASS_DEV_WIRED_PORT": str(self.wired_port),
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603  (our own launcher)
                [
                    sys.executable,
                    str(LAUNCHER),
                    "--config",
                    str(self.config_dir),
                    "--skip-pip",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509  (no threads)
            )

    def log_tail(self, lines: int = 60) -> str:
        """The end of the process's log."""
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def fail(self, message: str) -> AssertionError:
        """An assertion error that shows the log."""
        return AssertionError(
            f"{message}\n--- end of Home Assistant's log ---\n{self.log_tail()}"
        )

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    async def until[T](
        self, check: Callable[[], Awaitable[T]], what: str, timeout: float
    ) -> T:
        """Poll ``check`` until it returns something truthy (bounded)."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running:
                raise self.fail(f"Home Assistant exited while waiting for {what}")
            try:
                result = await check()
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                last_error = err
            else:
                if result:
                    return result
            await asyncio.sleep(0.5)
        raise self.fail(
            f"timed out after {timeout:.0f} s waiting for {what}"
            f" (last error: {last_error!r})"
        )

    async def wait_running(self) -> None:
        """Wait until Home Assistant reports that it has started."""

        async def _state() -> bool:
            config = await self.rest("GET", "/api/config")
            return bool(config.get("state") == "RUNNING")

        await self.until(_state, "Home Assistant to start", START_TIMEOUT)

    async def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the process to end by itself; return its exit code."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while (code := self.process.poll()) is None:
            if time.monotonic() > deadline:
                self.kill()
                raise self.fail(f"Home Assistant did not exit within {timeout:.0f} s")
            await asyncio.sleep(0.2)
        return code

    async def stop(self) -> int:
        """Ask Home Assistant to stop (SIGTERM); return its exit code."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        return await self.wait_exit()

    def kill(self) -> None:
        """Kill the whole process group, if it still runs."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait(timeout=STOP_TIMEOUT)

    async def rest(self, method: str, path: str, payload: Any = None) -> Any:
        """One REST call; returns the decoded JSON answer."""
        async with self.session.request(
            method,
            self.url + path,
            json=payload,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def ws_answer(self, command: str, **fields: Any) -> dict[str, Any]:
        """One WebSocket command on a fresh connection; returns the answer."""
        timeout = aiohttp.ClientWSTimeout(ws_close=REQUEST_TIMEOUT)
        async with self.session.ws_connect(
            self.url + "/api/websocket", timeout=timeout
        ) as conn:
            await asyncio.wait_for(conn.receive_json(), REQUEST_TIMEOUT)
            await conn.send_json({"type": "auth", "access_token": self.token})
            auth = await asyncio.wait_for(conn.receive_json(), REQUEST_TIMEOUT)
            assert auth["type"] == "auth_ok", auth
            await conn.send_json({"id": 1, "type": command, **fields})
            answer: dict[str, Any] = await asyncio.wait_for(
                conn.receive_json(), REQUEST_TIMEOUT
            )
        return answer

    async def ws(self, command: str, **fields: Any) -> Any:
        """One WebSocket command that must succeed; returns its result."""
        answer = await self.ws_answer(command, **fields)
        assert answer["success"], answer
        return answer["result"]

    async def confirm_http_config(self) -> None:
        """Confirm the configuration's ``http:`` settings where HA asks for it.

        From 2026.10 Home Assistant stores them as a pending trial: the
        frontend asks the owner to confirm it (a dialog in front of every
        page), and Home Assistant reverts it five minutes later if nobody does.
        Earlier versions have no such command and apply the settings as they are.
        """
        answer = await self.ws_answer("http/config")
        if answer["success"] and answer["result"]["pending"] is not None:
            await self.ws("http/config/promote")


# Start Home Assistant with an optional simulator configuration (YAML text).
type StartHass = Callable[[str | None], Awaitable[RealHass]]
