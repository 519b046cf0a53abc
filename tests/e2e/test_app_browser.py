"""The app in real headless Chromium (`streamlit run`): signing in through a deep link, a reload, sign-out;
sharing an analysis.

Needs Debian's chromium and Playwright for Python. Set EMOTION_LENS_E2E_SCREENSHOTS to a folder to keep the
screenshots.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from emotion_core.accounts import Accounts
from emotion_core.storage.store import HistoryStore
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PASSWORD = "a long enough password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def app_url(tmp_path):
    """The app on a free port, with an admin ``ada``, an analyst ``bob`` and a viewer ``cy``."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    pytest.importorskip("playwright")
    env = {**os.environ, "EMOTION_LENS_HOME": str(tmp_path / "home")}  # the store fixture opens the same
    for name, role in (("ada", "admin"), ("bob", "analyst"), ("cy", "viewer")):
        subprocess.run([sys.executable, "-m", "emotion_core", "users", "add", name, "--role", role], cwd=ROOT,
                       input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True)
    port = _free_port()
    log = tmp_path / "streamlit.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.terminate()
        pytest.fail("streamlit did not start:\n" + log.read_text()[-3000:])
    yield url
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture()
def store(app_url, tmp_path):
    opened = HistoryStore.open(f"sqlite:///{tmp_path / 'home' / 'emotion_lens.db'}", media_dir=tmp_path / "media")
    yield opened
    opened.engine.dispose()


@pytest.fixture()
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


def _screenshot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    if os.environ.get("EMOTION_LENS_E2E_SCREENSHOTS"):
        shutil.copy(path, Path(os.environ["EMOTION_LENS_E2E_SCREENSHOTS"]) / path.name)


def sign_in(page, name: str) -> None:
    page.get_by_label("Name").fill(name, timeout=90_000)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_deep_link_signs_in_to_its_page_which_a_reload_keeps(app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url}/history")
    password = page.get_by_label("Password", exact=True)
    assert password.get_attribute("autocomplete", timeout=90_000) == "current-password"
    _screenshot(page, tmp_path, "session-1-sign-in")
    sign_in(page, "bob")
    page.get_by_text("Signed in as").wait_for(timeout=60_000)
    assert page.url == f"{app_url}/history"
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=60_000)
    cookie = next(c for c in page.context.cookies() if c["name"] == "emotion_lens_session")
    assert cookie["sameSite"] == "Strict" and cookie["expires"] > time.time() + 86400

    page.reload()
    page.get_by_text("Signed in as").wait_for(timeout=60_000)
    assert page.url == f"{app_url}/history"
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Page not found")).not_to_be_visible()
    _screenshot(page, tmp_path, "session-2-after-reload")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Password", exact=True).wait_for(timeout=60_000)
    page.reload()  # the cookie is gone, and the session behind it has ended
    page.get_by_label("Password", exact=True).wait_for(timeout=60_000)
    assert not any(c["name"] == "emotion_lens_session" for c in page.context.cookies())


def test_a_wrong_password_says_so_on_the_same_page(app_url, browser):
    page = browser.new_page()
    page.goto(f"{app_url}/analytics")
    page.get_by_label("Name").fill("bob", timeout=90_000)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("wrong name or password").wait_for(timeout=60_000)
    assert page.url.startswith(f"{app_url}/analytics")


def open_analysis(page, source: str) -> None:
    """Open the analysis of ``source`` on the History page."""
    page.get_by_role("combobox", name="Open one analysis").click(timeout=60_000)
    page.get_by_role("option", name=re.compile(re.escape(source))).click()
    page.keyboard.press("Escape")


def test_an_analyst_shares_and_a_viewer_sees_it(app_url, store, browser, tmp_path):
    bob = next(u for u in Accounts(store).users() if u.name == "bob")
    saved = store.save_analysis(user=bob, kind="text", source_name="team-notes.txt", rows=[])
    analyst = browser.new_context().new_page()
    analyst.goto(f"{app_url}/history")
    sign_in(analyst, "bob")
    open_analysis(analyst, "team-notes.txt")
    switch = analyst.get_by_text("Shared with everyone")
    switch.click(timeout=60_000)
    analyst.get_by_text(f"Analysis #{saved.id} is shared with everyone").wait_for(timeout=30_000)
    _screenshot(analyst, tmp_path, "share-1-analyst")

    viewer = browser.new_context().new_page()  # another browser: its own cookies
    viewer.goto(f"{app_url}/history")
    sign_in(viewer, "cy")
    open_analysis(viewer, "team-notes.txt")
    viewer.get_by_text("Shared by bob.").wait_for(timeout=30_000)
    _screenshot(viewer, tmp_path, "share-2-viewer")


def test_admin_forms_confirm_and_start_afresh(app_url, store, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(f"{app_url}/admin")
    sign_in(page, "ada")
    add = page.locator("[data-testid='stForm']").filter(has_text="Add a user")
    add.get_by_label("Name").fill("dee", timeout=60_000)
    add.get_by_label("Password (10 characters or more)").fill(PASSWORD)
    add.get_by_role("button", name="Add").click()
    page.get_by_text("Added 'dee'.").wait_for(timeout=30_000)
    assert add.get_by_label("Name").input_value() == ""
    page.get_by_role("button", name="Save rule").click()
    page.get_by_text("Saved the rule").wait_for(timeout=30_000)
    page.get_by_role("button", name="Save changes").wait_for(timeout=30_000)  # editing it now, not adding again
    _screenshot(page, tmp_path, "admin-after-saving")
    assert [u.name for u in Accounts(store).users()] == ["ada", "bob", "cy", "dee"] and len(store.rules()) == 1


def test_a_text_chart_counts_sentences_and_the_menu_has_no_developer_options(app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(f"{app_url}/analyze")
    sign_in(page, "bob")
    page.get_by_role("tab", name="📝 Text").click(timeout=60_000)
    page.get_by_label("Text (English)").fill("I am so happy today. This is awful and I am furious. "
                                             "Well, it is fine now.")
    page.get_by_role("button", name="Analyse text").click()
    chart = page.locator(".js-plotly-plot").filter(has_text="Emotions along the text")
    chart.wait_for(state="attached", timeout=90_000)
    chart.scroll_into_view_if_needed()
    _screenshot(page, tmp_path, "text-sentences")
    ticks = chart.locator(".xtick text").evaluate_all("texts => texts.map(t => t.textContent)")
    assert ticks == ["1", "2", "3"]
    assert page.get_by_role("button", name="Deploy").count() == page.get_by_role("button", name="Stop").count() == 0


def test_history_and_models_speak_plainly(app_url, store, browser, tmp_path):
    from emotion_core.labels import EMOTIONS
    from emotion_core.result import EmotionResult
    from emotion_core.storage.store import result_row

    bob = next(u for u in Accounts(store).users() if u.name == "bob")
    face = EmotionResult.from_probabilities([0.7 if e == "happy" else 0.05 for e in EMOTIONS], modality="face",
                                            model_id="m", box=(10, 10, 50, 50))
    store.save_analysis(user=bob, kind="image", source_name="team.png", rows=[result_row(face, track=1)],
                        label="happy", settings={"detector": "blazeface", "face_model": "face_expression"},
                        summary={"faces": 1, "labels": ["happy"], "image": {"width": 640, "height": 480}})
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url}/history")
    sign_in(page, "bob")
    open_analysis(page, "team.png")
    page.get_by_text("Settings and summary").click()
    page.get_by_text("640 × 480 px").wait_for(timeout=30_000)
    expect(page.get_by_text("Face detector:")).to_be_visible()
    page.get_by_text("640 × 480 px").scroll_into_view_if_needed()
    _screenshot(page, tmp_path, "history-plain")

    page.goto(f"{app_url}/models")
    page.get_by_role("heading", name="Faces: face expression", exact=True).wait_for(timeout=60_000)
    page.get_by_text("Face detectors").wait_for(timeout=30_000)
    expect(page.get_by_text("of the time, where guessing among 7").first).to_be_visible()
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    _screenshot(page, tmp_path, "models-plain")
    assert height < 4000  # a summary per model; the research report waits in expanders


def test_analytics_headline_and_filters(app_url, store, browser, tmp_path):
    users = {u.name: u for u in Accounts(store).users()}
    for owner, kind, label in (("bob", "image", "happy"), ("bob", "image", None), ("ada", "text", "sad"),
                               ("bob", "video", "happy")):
        store.save_analysis(user=users[owner], kind=kind, source_name=f"{kind}.file", rows=[], label=label)
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(f"{app_url}/analytics")
    sign_in(page, "ada")
    page.get_by_text("Most common emotion").wait_for(timeout=60_000)
    metrics = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert metrics == ["4", "75%", "happy", "0"]
    page.locator(".js-plotly-plot").nth(2).wait_for(timeout=30_000)
    _screenshot(page, tmp_path, "analytics")
