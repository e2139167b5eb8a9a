"""One screenshot of a page in headless Chromium, over the DevTools protocol (aiohttp from the MLflow venv).

Usage: python shoot.py CHROMIUM URL OUT.png [CSS_SELECTOR_TO_CLICK ...]
Loads URL, waits until the page settles, dismisses MLflow's assistant panel and first-use tips, clicks the
element each selector finds (in order), then saves a 1600x1000 screenshot. Used by docs/ui/screenshots.sh.
"""

import asyncio
import base64
import json
import subprocess
import sys
import tempfile
import time
import urllib.request

import aiohttp

CLICK = """
(selector) => {
  const el = document.querySelector(selector);
  if (!el) return false;
  el.click();
  return true;
}
"""
# MLflow 3.17's UI opens an assistant side panel and first-use popovers; they cover the page, not part of it.
TIDY = """
(() => {
  for (const b of document.querySelectorAll('button')) {
    if (b.textContent.trim() === 'Got it') b.click();
  }
  const close = document.querySelector('[data-component-id="mlflow.assistant.chat_panel.close"]');
  if (close) close.click();
  return true;
})()
"""


async def main(chromium, url, out, clicks):
    port = 9333
    profile = tempfile.mkdtemp(prefix="agentfn-ui-")
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
                             "--window-size=1600,1000", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
                page = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                time.sleep(0.1)
        async with aiohttp.ClientSession() as http, http.ws_connect(page["webSocketDebuggerUrl"],
                                                                    max_msg_size=0) as ws:
            ids = iter(range(1, 10**6))

            async def call(method, **params):
                i = next(ids)
                await ws.send_json({"id": i, "method": method, "params": params})
                async for msg in ws:
                    data = json.loads(msg.data)
                    if data.get("id") == i:
                        return data.get("result", {})

            async def js(expr):
                r = await call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
                return r.get("result", {}).get("value")

            await call("Emulation.setDeviceMetricsOverride", width=1600, height=1000, deviceScaleFactor=1,
                       mobile=False)
            await call("Page.navigate", url=url)
            await asyncio.sleep(8)  # the single-page app loads its chunks and then the data
            await js(TIDY)
            await asyncio.sleep(1)
            for text in clicks:
                if not await js(f"({CLICK})({json.dumps(text)})"):
                    raise SystemExit(f"nothing matches {text} on {url}")
                await asyncio.sleep(4)
                await js(TIDY)
            await asyncio.sleep(1)
            shot = await call("Page.captureScreenshot", format="png")
            with open(out, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
