"""The Streamlit pages, driven headlessly with AppTest from the entry point."""

from datetime import timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from emotion_core.accounts import Accounts
from emotion_core.labels import EMOTIONS
from emotion_core.storage.db import User, utcnow
from emotion_core.storage.store import HistoryStore
from tests.conftest import ROOT, encode

TIMEOUT = 120
PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def like_a_running_server(monkeypatch):
    """Make AppTest behave as the server does once it has served a page.

    - AppTest's stand-in client answers every cookie name with a mock: here, as in a new browser, none.
    - AppTest forgets before every run that the app routes with ``st.navigation``, and then runs a page file
      whose name matches the page asked for (Streamlit's older ``pages/`` behaviour) without the entry point.
      A server forgets it only until the entry point first runs; this keeps AppTest's reset off the real flag.
    """
    from streamlit.runtime.context import ContextProxy, StreamlitCookies
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    monkeypatch.setattr(ContextProxy, "cookies", property(lambda _self: StreamlitCookies({})))
    monkeypatch.setattr(app_test, "PagesManager", type("PagesManager", (PagesManager,), {}))


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh EMOTION_LENS_HOME with an admin, an analyst and a viewer; the app's caches emptied."""
    monkeypatch.setenv("EMOTION_LENS_HOME", str(tmp_path))
    st.cache_resource.clear()
    st.cache_data.clear()
    store = HistoryStore.open(f"sqlite:///{tmp_path / 'emotion_lens.db'}", media_dir=tmp_path / "media")
    accounts = Accounts(store)
    admin = accounts.create_user("ada", PASSWORD, "admin")
    users = {"admin": admin, "analyst": accounts.create_user("bob", PASSWORD, "analyst", by=admin),
             "viewer": accounts.create_user("cy", PASSWORD, "viewer", by=admin)}
    yield store, users
    store.engine.dispose()
    st.cache_resource.clear()


def with_session(at: AppTest, home, role: str) -> AppTest:
    """``at`` holding a session of the ``role``'s user, as a tab does once signed in."""
    at.session_state["auth_session"] = Accounts(home[0]).start_session(home[1][role])
    return at


def signed_in(home, role: str) -> AppTest:
    at = with_session(AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT), home, role)
    at.run()
    assert not at.exception
    return at


@pytest.fixture()
def app(home) -> AppTest:
    return signed_in(home, "analyst")


def analyze_upload(app: AppTest, name: str, data: bytes, mime: str = "image/png",
                   key: str = "analyze_image_upload") -> AppTest:
    app.switch_page("pages/analyze.py").run()
    app.file_uploader(key=key).upload(name, data, mime)
    return app.run()


def test_home_says_what_not_to_use_it_for(app):
    text = " ".join(m.value for m in app.markdown) + " ".join(w.value for w in app.warning)
    assert "Emotion Lens" in app.title[0].value
    assert "EU AI Act" in text and "decision" in text


def test_analyze_photo_shows_every_face_with_its_chart(app, astronaut_png):
    at = analyze_upload(app, "astronaut.png", astronaut_png)
    assert not at.exception and not at.error
    assert "1 face found" in at.success[0].value
    assert any("happy" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 1
    assert [b.label for b in at.get("download_button")] == ["Download annotated image", "Download JSON"]


def test_a_headshot_is_found_and_the_page_says_how(app, face_crop_bgr):
    import cv2

    headshot = cv2.resize(face_crop_bgr, (400, 400), interpolation=cv2.INTER_CUBIC)
    at = analyze_upload(app, "headshot.png", encode(headshot))
    assert not at.exception and not at.error and not at.warning
    assert "1 face found" in at.success[0].value
    assert "whole photo was analysed as one face" in at.info[0].value
    assert any("happy" in m.value for m in at.markdown)


def test_photo_without_a_face(app, coffee_bgr):
    at = analyze_upload(app, "coffee.jpg", encode(coffee_bgr, "JPEG"), "image/jpeg")
    assert not at.exception
    assert "No face found" in at.warning[0].value


@pytest.mark.parametrize("name, data, message", [
    ("empty.png", b"", "got 0 bytes"),
    ("notes.png", b"just some text, not a picture" * 50, "not an image"),
])
def test_bad_uploads_get_a_clear_message(app, name, data, message):
    at = analyze_upload(app, name, data)
    assert not at.exception
    assert message in at.error[0].value


def test_truncated_upload(app, astronaut_bgr):
    jpeg = encode(astronaut_bgr, "JPEG")
    at = analyze_upload(app, "cut.jpg", jpeg[: len(jpeg) // 3], "image/jpeg")
    assert not at.exception and "truncated" in at.error[0].value


def test_decompression_bomb_upload(app):
    from tests.unit.test_media import png_claiming

    at = analyze_upload(app, "bomb.png", png_claiming(20000, 20000))
    assert not at.exception and "resize the image first" in at.error[0].value


def test_models_page_shows_metrics_and_confusion(app):
    at = app.switch_page("pages/models.py").run()
    assert not at.exception
    assert any("face" in h.value.lower() for h in at.header)
    assert [m.label for m in at.metric][:4] == ["Accuracy", "Macro-F1", "UAR", "Time per item"]
    assert len(at.get("plotly_chart")) >= 2
    assert any("leave one corpus out" in m.value for m in at.markdown)
    assert any("Every corpus' test split" in m.value for m in at.markdown)  # the text card's per-corpus table
    assert any("class priors" in c.value and "surprise " in c.value for c in at.caption)  # the text calibration
    text_loco = [m.value for m in at.markdown if m.value.startswith("**Leave one corpus out: ")]
    assert "the shipped recipe" in text_loco[0] and sum("the shipped recipe" in m for m in text_loco) == 1
    trained_on = [m.value for m in at.markdown if m.value.startswith("`face-mnv2")]
    assert "**RAF-DB (basic expressions)**" in trained_on[0] and "**FER+ (crowd votes" in trained_on[0]


def test_video_tab_analyses_a_clip_and_offers_every_export(app, astronaut_bgr):
    from tests.integration.test_video import encode_clip

    clip = encode_clip([astronaut_bgr] * 6)
    at = analyze_upload(app, "clip.mp4", clip, "video/mp4", key="analyze_video_upload")
    at.button(key="analyze_video_start").click().run()
    assert not at.exception and not at.error
    assert [m.value for m in at.metric][:3] == ["6 of 6", "0.2 s", "1"]
    assert "Cancel" not in [b.label for b in at.button]  # only while it runs
    assert len(at.get("plotly_chart")) == 2
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["CSV", "JSON", "Parquet", "Annotated video"]


def test_a_video_that_meets_a_rule_shows_its_alert(home, astronaut_bgr):
    from tests.integration.test_alerts import happy_clip, happy_for

    store, users = home
    store.save_rule(users["admin"], happy_for(1))
    app = signed_in(home, "analyst")
    at = analyze_upload(app, "smile.mp4", happy_clip(astronaut_bgr), "video/mp4", key="analyze_video_upload")
    at.button(key="analyze_video_start").click().run()
    assert not at.exception
    (alert,) = store.alerts(users["analyst"])
    assert (alert.rule_name, alert.analysis.source_name) == ("happy for 1 s", "smile.mp4")
    (banner,) = at.error
    assert "Alert — happy for 1 s" in banner.value and "from 0.7 s to 2.3 s" in banner.value


def test_video_tab_rejects_a_broken_file(app):
    at = analyze_upload(app, "broken.mp4", b"\x00 not a video" * 100, "video/mp4", key="analyze_video_upload")
    at.button(key="analyze_video_start").click().run()
    assert not at.exception
    assert "not a video this app can read" in at.error[0].value


def test_live_page_renders_stopped(app, monkeypatch):
    """streamlit-webrtc needs a browser session; without one it renders stopped, which is what we check."""
    import streamlit_webrtc.component

    monkeypatch.setattr(streamlit_webrtc.component, "get_this_session_info", lambda: None)
    at = app.switch_page("pages/live.py").run()
    assert not at.exception
    assert "Press START" in at.info[0].value
    assert [s.label for s in at.slider] == ["Run the detector every n-th frame", "Smoothing"]


class TestAccess:
    def test_first_run_creates_the_admin(self, tmp_path, monkeypatch):
        monkeypatch.setenv("EMOTION_LENS_HOME", str(tmp_path))
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
        assert "Welcome" in at.title[0].value
        at.text_input[0].input("root")
        at.text_input[1].input(PASSWORD)
        at.text_input[2].input(PASSWORD)
        at.button[0].click().run()
        assert not at.exception and at.title[0].value.endswith("Emotion Lens")
        assert any("root" in c.value and "admin" in c.value for c in at.caption)
        token = at.session_state["auth_session"]
        assert any(f"emotion_lens_session={token}" in h.proto.body for h in at.get("html"))  # the browser keeps it
        st.cache_resource.clear()

    def test_sign_in_and_wrong_password(self, home):
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
        assert at.subheader[0].value == "Sign in"
        assert at.text_input[1].proto.autocomplete == "current-password"
        at.text_input[0].input("bob")
        at.text_input[1].input("not it")
        at.button[0].click().run()
        assert "wrong name or password" in at.error[0].value
        at.text_input[1].input(PASSWORD)
        at.button[0].click().run()
        assert not at.exception and "auth_session" in at.session_state

    def test_sign_out_ends_the_session_and_clears_the_cookie(self, home):
        at = signed_in(home, "analyst")
        token = at.session_state["auth_session"]
        at.button(key="auth_sign_out").click().run()
        assert not at.exception and at.subheader[0].value == "Sign in"
        assert Accounts(home[0]).user_for_session(token) is None
        assert any("document.cookie" in h.proto.body and "Max-Age=0" in h.proto.body for h in at.get("html"))

    def test_sign_in_refuses_a_disabled_or_waiting_account(self, home):
        store, users = home
        Accounts(store).set_disabled("cy", True, by=users["admin"])
        with store.session() as session:  # as if strangers had just guessed wrong at bob's password
            session.get(User, users["analyst"].id).locked_until = utcnow() + timedelta(minutes=10)
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
        for name, message in (("cy", "is disabled"), ("bob", "try again in 10 min")):
            at.text_input[0].input(name)
            at.text_input[1].input(PASSWORD)
            at.button[0].click().run()
            assert message in at.error[0].value and "auth_session" not in at.session_state

    def test_admin_disables_and_enables_a_user(self, home):
        store, users = home
        analyst = signed_in(home, "analyst")
        at = signed_in(home, "admin").switch_page("pages/admin.py").run()

        def submit(name: str, button: str) -> None:
            next(s for s in at.selectbox if s.label == "User").select(name)
            next(b for b in at.button if b.label == button).click().run()
            assert not at.exception

        submit("bob", "Disable")
        assert Accounts(store).get(users["analyst"].id).disabled
        assert "auth_session" not in analyst.run().session_state  # signed out at its next run
        submit("bob", "Enable")
        assert not Accounts(store).get(users["analyst"].id).disabled
        submit("ada", "Disable")
        assert "last enabled admin" in at.error[0].value

    def test_registration_is_off_unless_configured(self, home, monkeypatch):
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
        assert len(at.text_input) == 2 and "Ask an admin" in at.caption[0].value
        monkeypatch.setenv("EMOTION_LENS_OPEN_REGISTRATION", "1")
        st.cache_resource.clear()  # the settings are read once per process
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
        at.text_input[2].input("dee")
        at.text_input[3].input(PASSWORD)
        at.text_input[4].input("something else entirely")
        at.button[1].click().run()
        assert "differ" in at.error[0].value and "auth_session" not in at.session_state
        at.text_input[4].input(PASSWORD)
        at.button[1].click().run()
        assert not at.exception
        assert any("dee" in c.value and "viewer" in c.value for c in at.caption)

    @pytest.mark.parametrize("role, page", [("viewer", "analyze"), ("viewer", "live"), ("analyst", "admin")])
    def test_pages_beyond_the_role_are_not_routed(self, home, role, page):
        at = signed_in(home, role)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}.py")

    @pytest.mark.parametrize("role, page", [("viewer", "analyze"), ("analyst", "admin")])
    def test_each_page_checks_the_role_itself(self, home, role, page):
        """Even run directly, past the router, a page refuses a role that may not use it."""
        at = with_session(AppTest.from_file(str(ROOT / f"pages/{page}.py"), default_timeout=TIMEOUT), home, role)
        at.run()
        assert not at.exception and "does not allow this page" in at.error[0].value
        assert not at.get("file_uploader") and not at.get("form")


def test_an_image_analysis_is_saved_once_without_its_file(home, astronaut_png):
    store, users = home
    at = analyze_upload(signed_in(home, "analyst"), "astronaut.png", astronaut_png)
    at.run()  # any rerun must not store it again
    (saved,) = store.analyses(users["analyst"])
    assert saved.kind == "image" and saved.source_name == "astronaut.png" and saved.media_file is None
    assert len(store.analysis(saved.id, users["analyst"]).rows) == 1


def test_history_analytics_alerts_account_and_admin_pages_render(home, astronaut_png):
    analyze_upload(signed_in(home, "analyst"), "astronaut.png", astronaut_png)
    at = signed_in(home, "admin")
    for page in ("history", "analytics", "alerts", "account", "admin"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, page
    at.switch_page("pages/history.py").run()
    assert len(at.dataframe[0].value) == 1
    at.multiselect(key="history_open").select(at.multiselect(key="history_open").options[0]).run()
    assert not at.exception and at.subheader[0].value.startswith("#1")
    fields = " ".join(m.value for m in at.markdown)
    assert "**Face detector:**" in fields and "**Faces found:** 1" in fields
    assert "**Image size:** 512 × 512 px" in fields
    assert not at.json  # labelled fields, not a raw JSON tree


def open_first_analysis(at: AppTest) -> AppTest:
    at.switch_page("pages/history.py").run()
    chooser = at.multiselect(key="history_open")
    return chooser.select(chooser.options[0]).run()


def test_the_owner_shares_from_history_and_a_viewer_then_sees_it(home):
    store, users = home
    saved = store.save_analysis(user=users["analyst"], kind="text", source_name="notes.txt", rows=[])
    viewer = signed_in(home, "viewer").switch_page("pages/history.py").run()
    assert viewer.dataframe[0].value.empty
    analyst = open_first_analysis(signed_in(home, "analyst"))
    analyst.toggle(key=f"history_shared_{saved.id}").set_value(True).run()
    assert not analyst.exception and store.analysis(saved.id, users["viewer"]).shared
    assert "is shared with everyone" in analyst.toast[0].value
    viewer = open_first_analysis(viewer)
    assert list(viewer.dataframe[0].value["source"]) == ["notes.txt"]
    assert not viewer.toggle and any("Shared by bob" in c.value for c in viewer.caption)


def test_history_shows_kept_words_and_says_when_they_were_not_kept(home):
    from emotion_core.result import EmotionResult
    from emotion_core.storage.store import result_row

    store, users = home
    cue = EmotionResult.from_probabilities([0, 0, 0, 1, 0, 0, 0], modality="text", model_id="t")
    for detail in ({"text": "Marmalade comets hum softly."}, {}):  # the words kept with the upload, and not
        store.save_analysis(user=users["analyst"], kind="multimodal", source_name="talk.mp4",
                            rows=[{**result_row(cue, start_s=0.5), "end_s": 2.0, "detail": detail}])
    at = signed_in(home, "analyst")
    at.switch_page("pages/history.py").run()
    for option in at.multiselect(key="history_open").options:
        at.multiselect(key="history_open").select(option).run()
    assert not at.exception
    shown = [table.value for table in at.dataframe if "text" in table.value.columns]
    assert [list(table["text"]) for table in shown] == [["Marmalade comets hum softly."]]
    assert sum("words themselves were not kept" in caption.value for caption in at.caption) == 1


class TestTextTab:
    def test_one_text(self, app):
        app.switch_page("pages/analyze.py").run()
        app.text_area(key="analyze_text_input").input("I am so happy today! My dog is sick though.")
        at = app.button(key="analyze_text_start").click().run()
        assert not at.exception and not at.error
        assert [m.label for m in at.metric][:2] == ["Emotion", "Sentiment (VADER)"]
        assert len(at.get("plotly_chart")) >= 2

    def test_an_uncertain_result_says_why(self, app):
        app.switch_page("pages/analyze.py").run()
        app.text_area(key="analyze_text_input").input("Zorblat quimfen drask vellum trusk.")
        at = app.button(key="analyze_text_start").click().run()
        assert not at.exception and not at.error
        assert any(w.value.startswith("Uncertain: ") and "unknown to the text model" in w.value for w in at.warning)

    def test_says_when_only_some_sentences_are_explained(self, app, monkeypatch):
        from emotion_core.text import analysis as text_analysis

        monkeypatch.setattr(text_analysis, "MAX_OCCLUSIONS", 10)
        app.switch_page("pages/analyze.py").run()
        app.text_area(key="analyze_text_input").input("I am so happy today with you! My dog is sick though. "
                                                      "The vet says he will be fine.")
        at = app.button(key="analyze_text_start").click().run()
        assert not at.exception and "first 1 of 3 sentences" in at.info[0].value

    @pytest.mark.parametrize("text, message", [("   ", "nothing to analyse"), ("🙂🙃😀", "no words"),
                                               ("x" * 100_001, "more than the 100,000")])
    def test_bad_text(self, app, text, message):
        app.switch_page("pages/analyze.py").run()
        app.text_area(key="analyze_text_input").input(text)
        at = app.button(key="analyze_text_start").click().run()
        assert not at.exception and message in at.error[0].value

    def test_csv_batch(self, app):
        app.switch_page("pages/analyze.py").run()
        csv = b"id,message\n1,I love this so much\n2,\n3,This is terrible news\n"
        app.file_uploader(key="analyze_text_csv").upload("posts.csv", csv, "text/csv")
        at = app.run()
        at.selectbox(key="analyze_text_column").select("message").run()
        at = at.button(key="analyze_text_batch_start").click().run()
        assert not at.exception and not at.error
        assert "2 rows analysed, 1 skipped" in " ".join(c.value for c in at.caption)
        assert at.get("download_button")[-1].label == "Download results (CSV)"

    def test_csv_that_is_not_utf8(self, app):
        app.switch_page("pages/analyze.py").run()
        app.file_uploader(key="analyze_text_csv").upload("posts.csv", "a,b\ncaf\xe9,1\n".encode("latin-1"),
                                                         "text/csv")
        at = app.run()
        assert not at.exception and "not a readable UTF-8 CSV" in at.error[0].value


class TestAudioTab:
    def test_recording_gets_a_waveform_segments_and_downloads(self, app):
        import numpy as np

        from tests.integration.test_speech import syllables, wav_bytes

        clip = wav_bytes(np.concatenate([syllables(1.5), np.zeros(8000, np.float32), syllables(1.5)]))
        at = analyze_upload(app, "voice.wav", clip, "audio/wav", key="analyze_audio_upload")
        assert not at.exception and not at.error
        assert at.metric[0].label == "Whole recording"
        assert [b.label for b in at.get("download_button")][-2:] == ["Segments (CSV)", "Result (JSON)"]

    def test_a_voice_unlike_the_training_recordings_is_shown_as_uncertain(self, app, tmp_path):
        import shutil
        import subprocess

        if shutil.which("espeak-ng") is None:
            pytest.skip("espeak-ng is not installed")
        wav = tmp_path / "angry.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "I am so angry"], check=True, capture_output=True)
        at = analyze_upload(app, "angry.wav", wav.read_bytes(), "audio/wav", key="analyze_audio_upload")
        assert not at.exception and not at.error
        assert any(w.value.startswith("Uncertain: ") for w in at.warning)

    def test_calibrated_to_the_speaker(self, app):
        import numpy as np

        from tests.integration.test_speech import syllables, wav_bytes

        two_segments = wav_bytes(np.concatenate([syllables(1.2), np.zeros(8000, np.float32), syllables(1.0)]))
        app.switch_page("pages/analyze.py").run()
        app.file_uploader(key="analyze_audio_calibration").set_value(
            [(f"same-speaker-{k}.wav", two_segments, "audio/wav") for k in range(3)])
        app.file_uploader(key="analyze_audio_upload").upload("voice.wav", wav_bytes(syllables(2.0)), "audio/wav")
        at = app.run()
        assert not at.exception and not at.error
        assert at.metric[0].label == "Whole recording"
        assert any("Calibrated to the speaker on 6 segments" in c.value for c in at.caption)

        app.file_uploader(key="analyze_audio_calibration").set_value([("one.wav", two_segments, "audio/wav")])
        at = app.run()
        assert not at.exception and "2 voiced segment(s) found, at least 5" in at.error[0].value

    def test_silence_says_so(self, app):
        import numpy as np

        from tests.integration.test_speech import wav_bytes

        at = analyze_upload(app, "quiet.wav", wav_bytes(np.zeros(32000, np.float32)), "audio/wav",
                            key="analyze_audio_upload")
        assert not at.exception and "silence" in at.warning[0].value

    def test_not_audio(self, app):
        at = analyze_upload(app, "notes.mp3", b"plain text, not sound" * 30, "audio/mpeg",
                            key="analyze_audio_upload")
        assert not at.exception and "not an audio" in at.error[0].value


def test_multimodal_page(app, astronaut_bgr):
    from tests.integration.test_multimodal import SRT, talking_face

    app.switch_page("pages/multimodal.py").run()
    app.file_uploader(key="multimodal_video").upload("talk.mp4", talking_face(astronaut_bgr), "video/mp4")
    app.file_uploader(key="multimodal_transcript").upload("talk.srt", SRT.encode(), "text/plain")
    at = app.run()
    at = at.button(key="multimodal_start").click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2
    assert any("disagree" in m.value for m in at.markdown)
    assert [b.label for b in at.get("download_button")] == ["Windows (CSV)", "Everything (JSON)"]


def test_admin_saves_a_rule_and_refuses_a_bad_one(home):
    store, _ = home
    at = signed_in(home, "admin")
    at.switch_page("pages/admin.py").run()
    name = [w for w in at.text_input if w.label == "Name"][-1]  # the rule form's, after the add-user form's
    save = next(b for b in at.button if b.label == "Save rule")
    name.input(" ")
    save.click().run()
    assert not at.exception and "rule: the name must have 1 to 120 characters" in at.error[0].value
    assert store.rules() == []
    [w for w in at.text_input if w.label == "Name"][-1].input("upset for 5 s")
    next(b for b in at.button if b.label == "Save rule").click().run()
    assert not at.exception
    assert [(r.name, r.labels, r.min_seconds) for r in store.rules()] == [
        ("upset for 5 s", ["angry", "disgust", "fear", "sad"], 5.0)]


class TestAdminAndAccount:
    @pytest.fixture()
    def admin_page(self, home) -> AppTest:
        return signed_in(home, "admin").switch_page("pages/admin.py").run()

    def test_adding_a_user_is_confirmed_and_the_form_empties(self, home, admin_page):
        at = admin_page
        at.text_input(key="admin_user_name").input("dee")
        at.text_input(key="admin_user_password").input(PASSWORD)
        next(b for b in at.button if b.label == "Add").click().run()
        assert not at.exception and not at.error
        assert at.toast[0].value == "Added 'dee'."
        assert "dee" in [u.name for u in Accounts(home[0]).users()]

    def test_an_admin_resets_a_password(self, home, admin_page):
        at = admin_page
        at.selectbox(key="admin_user_reset_target").select("cy")
        at.text_input(key="admin_user_reset_password").input("a brand new password")
        at.text_input(key="admin_user_reset_repeated").input("a brand new password")
        next(b for b in at.button if b.label == "Set the password").click().run()
        assert not at.exception and "New password set for 'cy'" in at.toast[0].value
        assert Accounts(home[0]).authenticate("cy", "a brand new password", source="test").name == "cy"

    def test_a_saved_rule_is_then_edited_not_added_twice(self, home, admin_page):
        at, store = admin_page, home[0]
        save = next(b for b in at.button if b.label == "Save rule")
        save.click().run()
        assert not at.exception and at.toast[0].value == "Saved the rule 'Negative emotion for 5 s'."
        (rule,) = store.rules()
        assert at.selectbox(key="admin_rule_pick").value == rule.id
        at.slider(key=f"admin_rule_threshold_{rule.id}").set_value(0.8)
        next(b for b in at.button if b.label == "Save changes").click().run()
        assert [(r.id, r.threshold) for r in store.rules()] == [(rule.id, 0.8)]
        at.selectbox(key="admin_rule_pick").select(0).run()
        assert at.text_input(key="admin_rule_name_0").value == "Negative emotion for 5 s"  # a fresh form
        at.selectbox(key="admin_rule_pick").select(rule.id).run()
        next(b for b in at.button if b.label == "Delete rule").click().run()
        assert store.rules() == [] and at.selectbox(key="admin_rule_pick").value == 0
        assert at.toast[0].value == "Deleted the rule."

    def test_a_user_changes_their_password_on_the_account_page(self, home):
        at = signed_in(home, "viewer").switch_page("pages/account.py").run()
        current, new, repeated = at.text_input[:3]
        assert [current.proto.autocomplete, new.proto.autocomplete] == ["current-password", "new-password"]
        current.input("not the password")
        new.input("a brand new password")
        repeated.input("a brand new password")
        next(b for b in at.button if b.label == "Change my password").click().run()
        assert "The password is unchanged: wrong name or password" in at.error[0].value
        current, new, repeated = at.text_input[:3]
        current.input(PASSWORD)
        new.input("a brand new password")
        repeated.input("a brand new password")
        next(b for b in at.button if b.label == "Change my password").click().run()
        assert not at.exception and not at.error and "Password changed" in at.toast[0].value
        assert Accounts(home[0]).authenticate("cy", "a brand new password", source="test").name == "cy"
        assert "Signed in as" in at.sidebar.caption[0].value  # this browser stays signed in


def test_analytics_counts_every_analysis_with_headline_numbers_and_filters(home):
    store, users = home
    store.save_analysis(user=users["analyst"], kind="image", source_name="one.png", rows=[], label="happy")
    store.save_analysis(user=users["analyst"], kind="image", source_name="none.png", rows=[])  # no face found
    store.save_analysis(user=users["admin"], kind="text", source_name="notes", rows=[], label="sad")
    at = signed_in(home, "admin").switch_page("pages/analytics.py").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric} == {"Analyses": "3", "With a result": "67%",
                                                      "Most common emotion": "happy", "Alerts raised": "0"}
    assert len(at.get("plotly_chart")) == 3  # over time, per kind, per user
    at.selectbox(key="analytics_owner").select("bob").run()
    assert at.metric[0].value == "2" and at.metric[1].value == "50%"
    at.selectbox(key="analytics_kind").select("video").run()
    assert at.metric[0].value == "0" and "No analyses match" in at.info[0].value
    analyst = signed_in(home, "analyst").switch_page("pages/analytics.py").run()
    assert analyst.metric[0].value == "2" and not [s for s in analyst.selectbox if s.label == "User"]


def test_analytics_shows_an_imported_batch_per_file(home):
    store, users = home
    mean = {e: float(e == "happy") for e in EMOTIONS}
    for name, kind in (("a.jpg", "image"), ("b.mp4", "video")):
        store.save_analysis(user=users["analyst"], kind=kind, source_name=name, rows=[], label="happy",
                            summary={"batch": "/runs/archive", "sha256": name, "mean": mean})
    store.save_analysis(user=users["analyst"], kind="text", source_name="notes", rows=[], label="sad")
    at = signed_in(home, "analyst").switch_page("pages/analytics.py").run()
    assert at.metric[0].value == "3" and len(at.get("plotly_chart")) == 2
    at.selectbox(key="analytics_batch").select("/runs/archive").run()
    assert not at.exception
    assert at.metric[0].value == "2" and at.metric[2].value == "happy"
    assert len(at.get("plotly_chart")) == 3  # over time, per kind, and per file of the batch
