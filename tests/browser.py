"""A real reading room for the browser tests: `wenshi serve` in a subprocess on a free port,
and Debian's Chromium driven by Playwright for Python.

Playwright's own browser download is not reachable here; it drives the system Chromium
(`chromium`, installed by scripts/install-system-deps.sh). Outside CI a missing browser skips
the browser tests; under CI=true it fails them (a hidden install gap).

Fixtures (tests/conftest.py): `chromium` (session browser), `browser_page` (a fresh page,
1280x800, closed after the test), `wenshi_server` (a factory: `wenshi_server(library, *args)`
starts `wenshi --library LIBRARY serve ARGS` and returns its base URL; stopped after the test),
`web_library` and `served` (the reading room's own test library and its server).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
START_TIMEOUT = 30.0  # seconds for `wenshi serve` to answer (it takes about one)


def chromium_or_skip() -> Any:
    """Playwright's sync API, or a skip (a failure under CI=true) when it or Chromium is missing."""
    problem = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "the playwright package is not installed (pip install -e '.[test]')"
    if not problem and not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run but CI=true: {problem}")
        pytest.skip(problem)
    return sync_playwright


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A `wenshi serve` subprocess."""

    def __init__(self, library: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        wenshi = shutil.which("wenshi", path=str(Path(sys.executable).parent)) or "wenshi"
        self.command = [wenshi, "--library", str(library), "serve", "--port", str(self.port),
                        *args]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env or {k: v for k, v in os.environ.items() if not k.startswith("WENSHI_")},
            start_new_session=True)
        self.output = ""
        self.ready_after = self._wait_ready()

    def _wait_ready(self) -> float:
        deadline = self.started + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                raise RuntimeError(f"wenshi serve exited {self.process.returncode}: {err}{out}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return time.monotonic() - self.started
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"wenshi serve did not answer within {START_TIMEOUT} s")

    def stop(self) -> int | None:
        """Ctrl-C (SIGINT), as a user stops it; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        out, err = self.process.communicate()
        self.output = out + err
        return self.process.returncode

    def listening_on(self) -> list[str]:
        """The local addresses its port is listening on, from /proc/net/tcp and tcp6 (no
        traffic sent): ['127.0.0.1'] when it binds this machine only."""
        found = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                rows = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                local, state = row.split()[1], row.split()[3]
                address, port = local.rsplit(":", 1)
                if state == "0A" and int(port, 16) == self.port:  # 0A: LISTEN
                    found.append(_address(address))
        return found


def _address(hex_address: str) -> str:
    if len(hex_address) == 8:
        return socket.inet_ntop(socket.AF_INET, bytes.fromhex(hex_address)[::-1])
    raw = b"".join(bytes.fromhex(hex_address[i:i + 8])[::-1] for i in range(0, 32, 8))
    return socket.inet_ntop(socket.AF_INET6, raw)


def new_page(browser: Any, viewport: dict[str, int] | None = None) -> Any:
    """A page in a fresh context, collecting its console errors and failed requests."""
    context = browser.new_context(viewport=viewport or LAPTOP, locale="zh-CN")
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return page


def box_on_image(page: Any, selector: str) -> dict[str, float]:
    """Where an overlay element lies on the scan, in the scan's pixels, read back through
    OpenSeadragon's own coordinate conversion (what the reader sees, not what was asked)."""
    return page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            const r = el.getBoundingClientRect();
            const v = document.getElementById('viewer').getBoundingClientRect();
            const item = window.wenshiViewer.world.getItemAt(0);
            const a = item.viewerElementToImageCoordinates(
                new OpenSeadragon.Point(r.left - v.left, r.top - v.top));
            const b = item.viewerElementToImageCoordinates(
                new OpenSeadragon.Point(r.right - v.left, r.bottom - v.top));
            const scale = Number(document.getElementById('viewer').dataset.width)
                / item.getContentSize().x;
            return {x: a.x * scale, y: a.y * scale, w: (b.x - a.x) * scale,
                    h: (b.y - a.y) * scale, shown: r.width > 0 && r.height > 0};
        }""", selector)
