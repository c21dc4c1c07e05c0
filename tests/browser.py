"""Headless Chromium driven through the DevTools protocol, to look at a page as a person would.

`Browser(path)` starts Debian's chromium (installed with apt-get when missing and root) with every
network request sent to a dead proxy, so a page that needs the internet shows it; `evaluate` runs
JavaScript in the page, `click_text` clicks the element whose text is given, `screenshot` writes a PNG.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("chromium is not installed and this user cannot install it: apt-get install chromium")
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, capture_output=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("chromium")


class Browser:
    def __init__(self, width: int = 1400, height: int = 900):
        self.profile = tempfile.mkdtemp(prefix="zsar-chromium-")
        self.process = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--proxy-server=127.0.0.1:9", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.time() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.time() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools server within 30 s")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
        page = next(p for p in pages if p["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0):
        """The value of `expression` once it is truthy."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"the page never satisfied: {expression}")

    def click_text(self, text: str, selector: str = "*") -> None:
        """Click the innermost element matching `selector` whose visible text is exactly `text`."""
        script = f"""(() => {{
            const all = [...document.querySelectorAll({json.dumps(selector)})]
                .filter(e => e.innerText && e.innerText.trim() === {json.dumps(text)});
            const inner = all.filter(e => !all.some(o => o !== e && e.contains(o)));
            if (!inner.length) return false;
            inner[0].click();
            return true;
        }})()"""
        if not self.evaluate(script):
            raise LookupError(f"nothing on the page reads {text!r}")

    def open_row(self, text: str) -> None:
        """Click the first link of the table row whose first cell reads `text` (a report's view button)."""
        script = f"""(() => {{
            const row = [...document.querySelectorAll('tr')]
                .find(r => r.cells.length && r.cells[0].innerText.trim() === {json.dumps(text)});
            const link = row && row.querySelector('a');
            if (!link) return false;
            link.click();
            return true;
        }})()"""
        if not self.evaluate(script):
            raise LookupError(f"no table row reads {text!r} in its first cell")

    def screenshot(self, path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.socket.close()
        except Exception:
            pass
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
