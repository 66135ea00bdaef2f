"""Open generated HTML in headless Chromium and report what the browser saw.

The browser is driven over the Chrome DevTools Protocol on a pipe (``--remote-debugging-pipe``:
the browser reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4), so
no port is opened and no websocket library is needed. For each page we record every request it
made, console errors and uncaught exceptions, each image's decode result, the final DOM and,
on request, a screenshot.

    with Chromium() as browser:
        seen = browser.open("reports/index.html", screenshot="reports/index.png")
    assert not seen.console_errors and not seen.external_requests
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--window-size=1280,900",
    "--enable-logging=stderr",
    "--v=0",
    "--remote-debugging-pipe",
)

#: Schemes that stay on this machine; a request with any other scheme leaves it.
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome:", "devtools:")

_PAGE_SCRIPT = r"""
(async () => {
  const images = [...document.images];
  const decoded = await Promise.all(images.map(img => img.decode().then(() => true, () => false)));
  const attrs = [];
  for (const el of document.querySelectorAll("[src], link[href], [srcset], object[data]")) {
    for (const name of ["src", "href", "srcset", "data"]) {
      const v = el.getAttribute(name);
      if (v !== null) attrs.push(v);
    }
  }
  return {
    title: document.title,
    images: images.map((img, i) => ({
      src: img.getAttribute("src") || "",
      complete: img.complete,
      width: img.naturalWidth,
      height: img.naturalHeight,
      decoded: decoded[i],
    })),
    resources: attrs,
    links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
    dom: document.documentElement.outerHTML,
  };
})()
"""


def _high_fd(fd: int) -> int:
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class BrowserError(RuntimeError):
    """Chromium did not start, answer or load a page in time."""


@dataclass
class PageCheck:
    """What the browser saw on one page."""

    url: str
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    dom: str = ""
    screenshot: Path | None = None

    @property
    def external_requests(self) -> list[str]:
        """Requests that would leave the machine (any scheme but file:, data:, about:, blob:)."""
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]

    @property
    def broken_images(self) -> list[dict]:
        return [i for i in self.images if not (i["complete"] and i["decoded"] and i["width"] > 0)]

    @property
    def remote_resources(self) -> list[str]:
        """``src``/``href`` attributes of the DOM that point at http(s) or protocol-relative URLs."""
        return [r for r in self.resources if r.strip().lower().startswith(("http:", "https:", "//"))]


class Chromium:
    """A headless Chromium driven over a DevTools pipe; use as a context manager."""

    def __init__(self, binary=CHROMIUM, *, timeout: float = 30.0):
        self.binary = Path(binary)
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._profile: str | None = None
        self._ids = iter(range(1, 1 << 30))
        self._replies: dict[int, dict] = {}
        self._events: list[dict] = []
        self._inbox: queue.Queue = queue.Queue()
        self._write_fd: int | None = None

    # -- process -------------------------------------------------------------------------------
    def __enter__(self) -> Chromium:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        if not self.binary.exists():
            raise BrowserError(f"{self.binary} not found")
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Move the browser's ends above 9 so that they cannot collide with the 3 and 4 they go to.
        to_browser_r, from_browser_w = (_high_fd(fd) for fd in (to_browser_r, from_browser_w))
        # bash (dash takes single-digit fds only) puts the pipe ends on fds 3 and 4.
        script = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-'
        self._log = open(Path(self._profile) / "chromium.log", "wb")
        try:
            self._proc = subprocess.Popen(
                [
                    "/bin/bash",
                    "-c",
                    script,
                    str(self.binary),
                    *FLAGS,
                    f"--user-data-dir={self._profile}",
                    "about:blank",
                ],
                pass_fds=(to_browser_r, from_browser_w),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
            )
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._write_fd = to_browser_w
        threading.Thread(target=self._reader, args=(from_browser_r,), daemon=True).start()
        try:
            self.send("Browser.getVersion")
        except (BrowserError, OSError) as exc:
            log = self.log_text()
            self.close()
            raise BrowserError(f"Chromium did not start: {exc}\n{log[-2000:]}") from None

    def close(self) -> None:
        if self._proc is not None:
            try:
                if self._proc.poll() is None:
                    self.send("Browser.close", timeout=5)
            except BrowserError:
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._write_fd is not None:
            os.close(self._write_fd)
            self._write_fd = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def log_text(self) -> str:
        """What Chromium wrote to stderr so far (its own logging, useful when a check fails)."""
        if not self._profile:
            return ""
        path = Path(self._profile) / "chromium.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- protocol ------------------------------------------------------------------------------
    def _reader(self, fd: int) -> None:
        buf = b""
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while True:
                chunk = pipe.read(1 << 16)
                if not chunk:
                    self._inbox.put(None)
                    return
                buf += chunk
                while b"\0" in buf:
                    raw, buf = buf.split(b"\0", 1)
                    self._inbox.put(json.loads(raw))

    def _pump(self, deadline: float) -> bool:
        """Move one message from the pipe into replies/events; False when time ran out."""
        try:
            msg = self._inbox.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return False
        if msg is None:
            raise BrowserError("Chromium closed the DevTools pipe:\n" + self.log_text()[-2000:])
        if "id" in msg:
            self._replies[msg["id"]] = msg
        else:
            self._events.append(msg)
        return True

    def send(
        self,
        method: str,
        params: dict | None = None,
        *,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict:
        msg_id = next(self._ids)
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._write_fd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while msg_id not in self._replies:
            if not self._pump(deadline):
                raise BrowserError(f"no answer to {method} within {timeout or self.timeout} s")
        reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise BrowserError(f"{method} failed: {reply['error']}")
        return reply.get("result", {})

    def _wait_event(self, method: str, session: str, deadline: float) -> dict:
        while True:
            for ev in self._events:
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return ev
            if not self._pump(deadline):
                raise BrowserError(f"no {method} event before the timeout")

    def _drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self._pump(deadline):
            pass

    # -- pages ---------------------------------------------------------------------------------
    def open(self, path, *, screenshot=None) -> PageCheck:
        """Load a local HTML file and report requests, console errors, images and the DOM."""
        path = Path(path).resolve()
        url = path.as_uri()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable", session=session)
            self._events = [e for e in self._events if e.get("sessionId") != session]
            deadline = time.monotonic() + self.timeout
            self.send("Page.navigate", {"url": url}, session=session)
            self._wait_event("Page.loadEventFired", session, deadline)
            self._drain(0.3)  # late console messages and requests
            found = self.send(
                "Runtime.evaluate",
                {
                    "expression": _PAGE_SCRIPT,
                    "awaitPromise": True,
                    "returnByValue": True,
                },
                session=session,
            )
            if "exceptionDetails" in found:
                raise BrowserError(f"the page check script failed: {found['exceptionDetails']}")
            value = found["result"]["value"]
            check = PageCheck(
                url,
                title=value["title"],
                images=value["images"],
                resources=value["resources"],
                links=value["links"],
                dom=value["dom"],
            )
            if screenshot is not None:
                check.screenshot = self._screenshot(session, Path(screenshot))
            self._drain(0.05)
            self._collect(check, session)
            return check
        finally:
            self.send("Target.closeTarget", {"targetId": target})

    def _screenshot(self, session: str, out: Path) -> Path:
        size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        clip = {
            "x": 0,
            "y": 0,
            "width": max(1, min(size["width"], 4000)),
            "height": max(1, min(size["height"], 8000)),
            "scale": 1,
        }
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            session=session,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        return out

    def _collect(self, check: PageCheck, session: str) -> None:
        mine = [e for e in self._events if e.get("sessionId") == session]
        self._events = [e for e in self._events if e.get("sessionId") != session]
        for ev in mine:
            method, p = ev.get("method"), ev.get("params", {})
            if method == "Network.requestWillBeSent":
                u = p["request"]["url"]
                check.requests.append(u if not u.startswith("data:") else u[:60] + "...")
            elif method == "Network.loadingFailed":
                check.failed_requests.append(f"{p.get('errorText', '')} ({p.get('requestId')})")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                check.console_errors.append(f"console.{p['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                desc = d.get("exception", {}).get("description") or d.get("text", "")
                check.console_errors.append(f"uncaught: {desc}")
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                e = p["entry"]
                check.console_errors.append(
                    f"{e.get('source', 'log')}: {e.get('text', '')} {e.get('url', '')}".strip()
                )


def open_html(path, *, screenshot=None, binary=CHROMIUM, timeout: float = 30.0) -> PageCheck:
    """Open one HTML file in a fresh headless Chromium and return what it saw."""
    with Chromium(binary, timeout=timeout) as browser:
        return browser.open(path, screenshot=screenshot)
