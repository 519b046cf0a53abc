"""Drive the live page in headless Chromium with a fake camera; print what the page showed as JSON.

Run inside the test's network namespace (aiortc ignores loopback addresses for WebRTC):
    python tests/e2e/drive_live.py URL Y4M SCREENSHOT USER PASSWORD
"""

import json
import re
import sys

from playwright.sync_api import sync_playwright

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--use-fake-device-for-media-stream",
         "--use-fake-ui-for-media-stream"]


def main(url: str, y4m: str, screenshot: str, user: str, password: str) -> int:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=[*FLAGS, f"--use-file-for-fake-video-capture={y4m}"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        page.get_by_label("Name").fill(user, timeout=90_000)
        page.locator("input[type=password]").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Signed in as").wait_for(timeout=60_000)  # back on the live page, signed in
        page.wait_for_selector("iframe", timeout=90_000)
        component = page.frame_locator("iframe").first
        component.get_by_role("button", name="START").click(timeout=60_000)
        stats = page.get_by_text(re.compile(r"a face in [1-9]\d* · now:")).first
        stats.wait_for(timeout=90_000)
        page.wait_for_timeout(4000)  # let more frames through
        text = stats.inner_text()
        video = component.locator("video").first
        size = video.evaluate("v => [v.videoWidth, v.videoHeight, v.currentTime]")
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)
        page.screenshot(path=screenshot, full_page=True)
        browser.close()
    frames, with_face = map(int, re.search(r"(\d+) frames, a face in (\d+)", text).groups())
    label = re.search(r"now: \S+ (\w+) (\d+)%", text).group(1)
    print(json.dumps({"stats": text, "frames": frames, "frames_with_face": with_face, "label": label,
                      "video": size}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
