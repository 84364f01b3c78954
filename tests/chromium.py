"""Headless Chromium for the layout tests, driven over the DevTools protocol on a pipe.

One browser is started per test session (``--remote-debugging-pipe``: JSON messages separated
by NUL on file descriptors 3 and 4, so no WebSocket library and no port). Each email is
measured inside an ``<iframe>`` exactly as wide as the phone or desktop viewport, because
headless Chromium lays the top-level page out at least ~500 px wide whatever the window
says; the frame's own document gives the scroll width the reader would see.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT = 30.0  # seconds for any one protocol answer: a hung browser fails the test, never hangs it


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("Chromium is not installed: .ci/run installs Debian's `chromium` (apt-get install chromium)")


@dataclass(frozen=True)
class Layout:
    """What one email looks like in a frame of ``width`` CSS pixels."""

    width: int
    scroll_width: int  # the framed document's: wider than ``width`` means the reader scrolls sideways
    widest: str  # the element that sticks out furthest right, for the failure message
    text: str  # the framed document's innerText
    screenshot: Path | None


_MEASURE = """
(() => {
  const doc = document.getElementById('f').contentDocument;
  const w = doc.documentElement.clientWidth;
  let widest = '', right = 0;
  for (const el of doc.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect().left + el.scrollWidth;
    if (r > right) { right = r; widest = el.tagName + ' ' + (el.textContent || '').trim().slice(0, 60); }
  }
  return JSON.stringify({scroll: Math.max(doc.documentElement.scrollWidth, doc.body.scrollWidth),
                         height: doc.documentElement.scrollHeight, widest: right > w ? widest : '',
                         text: doc.body.innerText});
})()
"""


class Browser:
    """One headless Chromium; ``layout`` loads an HTML document in a fixed-width frame."""

    def __init__(self, profile: Path) -> None:
        import fcntl

        ours_in, theirs_out = os.pipe()  # the browser writes answers on its fd 4
        theirs_in, ours_out = os.pipe()  # and reads commands on its fd 3
        # Above 10, so moving them onto 3 and 4 in the child never clobbers one with the other.
        high_in, high_out = fcntl.fcntl(theirs_in, fcntl.F_DUPFD, 10), fcntl.fcntl(theirs_out, fcntl.F_DUPFD, 10)
        os.close(theirs_in)
        os.close(theirs_out)
        theirs_in, theirs_out = high_in, high_out
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--mute-audio",
                f"--user-data-dir={profile}", "about:blank"]
        # A small trampoline puts our pipe ends on the descriptors the protocol expects (3 in,
        # 4 out) and becomes the browser: no preexec_fn, and dash cannot name fds above 9.
        move = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4);"
                " os.close(int(sys.argv[1])); os.close(int(sys.argv[2])); os.execv(sys.argv[3], sys.argv[3:])")
        self._proc = subprocess.Popen(
            [sys.executable, "-c", move, str(theirs_in), str(theirs_out), chromium_path(), *args],
            pass_fds=(theirs_in, theirs_out),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(theirs_in)
        os.close(theirs_out)
        self._out = os.fdopen(ours_out, "wb", buffering=0)
        self._in = os.fdopen(ours_in, "rb", buffering=0)
        self._buf = b""
        self._next = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    def _read_message(self) -> dict[str, Any]:
        import select

        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._in], [], [], TIMEOUT)
            if not ready:
                raise TimeoutError("Chromium did not answer within 30 s")
            chunk = self._in.read(65536)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            msg["sessionId"] = self._session
        self._out.write(json.dumps(msg).encode() + b"\0")
        while True:
            answer = self._read_message()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def _wait_for(self, event: str) -> None:
        while self._read_message().get("method") != event:
            pass

    def layout(self, html: str, width: int, screenshot: Path | None = None, dark: bool = False) -> Layout:
        """Load ``html`` as the document of an iframe ``width`` px wide and measure it."""
        self.call("Emulation.setEmulatedMedia", session=True,
                  features=[{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}])
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=max(width, 1100), height=900,
                  deviceScaleFactor=1, mobile=False)
        frame_doc = html.replace("&", "&amp;").replace('"', "&quot;")
        page = ("<!DOCTYPE html><html><body style='margin:0'>"
                f"<iframe id='f' style='border:0;width:{width}px;height:800px;display:block' "
                f'srcdoc="{frame_doc}"></iframe></body></html>')
        frame = self.call("Page.getFrameTree", session=True)["frameTree"]["frame"]["id"]
        self.call("Page.setDocumentContent", session=True, frameId=frame, html=page)
        self._settle()
        found = json.loads(self.call("Runtime.evaluate", session=True, expression=_MEASURE,
                                     returnByValue=True)["result"]["value"])
        shot = None
        if screenshot is not None:
            height = min(int(found["height"]), 6000)
            self.call("Runtime.evaluate", session=True,
                      expression=f"document.getElementById('f').style.height='{height}px'")
            data = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                             clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})["data"]
            screenshot.write_bytes(base64.b64decode(data))
            shot = screenshot
        return Layout(width, int(found["scroll"]), found["widest"], found["text"], shot)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page, returned by value. After ``layout``
        the document under test is ``document.getElementById('f').contentDocument``."""
        found = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        if "exceptionDetails" in found:
            raise RuntimeError(f"{expression[:60]}...: {found['exceptionDetails']}")
        return found["result"].get("value")

    def _settle(self) -> None:
        """Until the framed document has loaded (srcdoc loads asynchronously)."""
        for _ in range(200):
            state = self.call("Runtime.evaluate", session=True, returnByValue=True,
                              expression="(() => { const d = document.getElementById('f');"
                                         " return !!(d && d.contentDocument && d.contentDocument.body"
                                         " && d.contentDocument.readyState === 'complete'); })()")
            if state["result"].get("value"):
                return
        raise TimeoutError("the framed email never finished loading")

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError, TimeoutError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._out.close()
        self._in.close()
