"""The live webcam page end to end: `streamlit run`, headless Chromium with a fake camera showing a real face.

Both run in a network namespace of their own with a veth interface, because aiortc drops loopback addresses
from WebRTC's candidates. Needs root (for `ip netns`), Debian's chromium and Playwright for Python.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import ROOT
from tests.e2e.fake_camera import write_face_y4m

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return "Debian's chromium is not installed"
    if shutil.which("ip") is None or os.geteuid() != 0:
        return "needs root and iproute2 for a network namespace"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture()
def namespace():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    name = f"emo_{uuid.uuid4().hex[:8]}"
    commands = [
        ["ip", "netns", "add", name],
        ["ip", "-n", name, "link", "set", "lo", "up"],
        ["ip", "-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
        ["ip", "-n", name, "addr", "add", "192.0.2.10/24", "dev", "v0"],
        ["ip", "-n", name, "link", "set", "v0", "up"],
        ["ip", "-n", name, "link", "set", "v1", "up"],
    ]
    try:
        for command in commands:
            subprocess.run(command, check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)
        pytest.skip(f"cannot create a network namespace: {exc.stderr.decode().strip()}")
    yield name
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


USER, PASSWORD = "tester", "a long enough password"


@pytest.fixture()
def app_url(namespace, tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "EMOTION_LENS_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "emotion_core", "users", "add", USER, "--role", "admin"], cwd=ROOT,
                   input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        ["ip", "netns", "exec", namespace, sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
         "--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/_stcore/health', timeout=2)"
    for _ in range(120):
        if subprocess.run(["ip", "netns", "exec", namespace, sys.executable, "-c", probe],
                          capture_output=True).returncode == 0:
            break
        time.sleep(0.5)
    else:
        server.terminate()
        pytest.fail("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text()[-3000:])
    yield f"http://127.0.0.1:{port}/live"
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


def test_live_page_analyses_the_fake_camera(namespace, app_url, tmp_path):
    y4m = write_face_y4m(tmp_path / "face.y4m")
    screenshot = tmp_path / "live.png"
    run = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, str(ROOT / "tests/e2e/drive_live.py"), app_url, str(y4m),
         str(screenshot), USER, PASSWORD],
        capture_output=True, text=True, timeout=300,
    )
    if os.environ.get("EMOTION_LENS_E2E_SCREENSHOT") and screenshot.exists():
        shutil.copy(screenshot, os.environ["EMOTION_LENS_E2E_SCREENSHOT"])  # to look at by hand
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    # The stats line is written by the server from the analyser's own counters: frames went through the
    # server-side callback, and the face was found and classified in most of them.
    assert seen["frames"] >= 10
    assert seen["frames_with_face"] >= 0.8 * seen["frames"]
    assert seen["label"] == "happy"
    # The browser plays the annotated stream that the server sends back.
    width, height, played = seen["video"]
    assert (width, height) == (640, 480) and played > 0
    assert screenshot.stat().st_size > 10_000
