"""The history store and accounts on a real database file (and PostgreSQL when one is available)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from emotion_core.accounts import (
    ACCOUNT_BACKOFF,
    SESSION_LIFETIME,
    SOURCE_BACKOFF,
    TOKEN_USE_GRANULARITY,
    Accounts,
)
from emotion_core.alerts import Rule
from emotion_core.errors import (
    AuthenticationFailed,
    InvalidInputError,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
)
from emotion_core.face.stream import FrameReport
from emotion_core.labels import EMOTIONS
from emotion_core.result import SCORE_COLUMNS, EmotionResult
from emotion_core.storage.db import Alert, AlertRule, Analysis, ApiToken, BrowserSession, TimelineRow, utcnow
from emotion_core.storage.history import frame_rows
from emotion_core.storage.store import result_row
from tests.integration.conftest import PASSWORD
from tests.unit.test_throttle import FakeClock


def face(label: str, **fields) -> EmotionResult:
    return EmotionResult.from_probabilities([0.94 if e == label else 0.01 for e in EMOTIONS], modality="face",
                                            model_id="m", **fields)


def rows_of(*results, modality_times=None):
    return [result_row(r, start_s=i * 0.1) for i, r in enumerate(results)]


class TestEveryModalityRoundTrips:
    @pytest.mark.parametrize("kind, results", [
        ("image", [face("happy", box=(1, 2, 3, 4)), face("sad", box=(5, 6, 7, 8))]),
        ("video", [face("angry", box=(1, 2, 3, 4))] * 5),
        ("audio", [EmotionResult.from_probabilities([0, 0, 0, 0, 1, 0, 0], modality="speech", model_id="s",
                                                    span=(0.5, 2.0))]),
        ("text", [EmotionResult.from_probabilities([0, 0, 0, 1, 0, 0, 0], modality="text", model_id="t")]),
        ("multimodal", [EmotionResult.from_probabilities([1, 0, 0, 0, 0, 0, 0], modality="fused", model_id="f",
                                                         span=(0, 1))]),
    ])
    def test_save_and_read_back(self, store, people, kind, results):
        _, _, analyst, _ = people
        rows = rows_of(*results)
        saved = store.save_analysis(user=analyst, kind=kind, source_name=f"input.{kind}", rows=rows,
                                    summary={"n": len(rows)}, settings={"detector": "blazeface"},
                                    label=results[0].label)
        back = store.analysis(saved.id, analyst)
        assert (back.kind, back.source_name, back.summary, back.settings) == (
            kind, f"input.{kind}", {"n": len(rows)}, {"detector": "blazeface"})
        assert [r.label for r in back.rows] == [r.label for r in results]
        assert [r.modality for r in back.rows] == [r.modality for r in results]
        assert back.rows[0].p_happy == pytest.approx(results[0].scores["happy"])
        if results[0].box:
            assert back.rows[0].detail["box"] == list(results[0].box)
        if results[0].span:
            assert (back.rows[0].start_s, back.rows[0].end_s) == results[0].span


def test_video_frames_are_stored_as_instants_on_their_tracks():
    doubtful = face("sad", box=(5, 6, 7, 8), frame=0, track_id=2, uncertain="tiny face")
    frames = [FrameReport(index=0, time_s=0.5, faces=[face("happy", box=(1, 2, 3, 4), frame=0, track_id=1),
                                                      doubtful], detected=True, latency_ms=3.0),
              FrameReport(index=1, time_s=0.54, faces=[], detected=False, latency_ms=1.0)]
    first, second, empty = frame_rows(frames)
    assert (first["start_s"], first["end_s"], first["track"], first["label"]) == (0.5, None, "1", "happy")
    assert second["detail"] == {"model_id": "m", "frame": 0, "uncertain_reason": "tiny face", "box": [5, 6, 7, 8]}
    assert second["p_sad"] == pytest.approx(0.94)
    assert (empty["start_s"], empty["track"], empty["label"], empty["detail"]) == (0.54, None, "no face",
                                                                                   {"frame": 1})
    assert all(empty[column] is None for column in SCORE_COLUMNS)


class TestRoles:
    def test_viewer_cannot_analyse_or_delete(self, store, people):
        _, admin, _, viewer = people
        with pytest.raises(PermissionDenied):
            store.save_analysis(user=viewer, kind="image", source_name="x.png", rows=[])
        saved = store.save_analysis(user=admin, kind="image", source_name="x.png", rows=[], shared=True)
        with pytest.raises(PermissionDenied):
            store.delete_analysis(saved.id, viewer)
        assert [a.id for a in store.analyses(viewer)] == [saved.id]  # shared: visible, read only

    def test_sharing_by_role(self, store, people):
        accounts, admin, analyst, viewer = people
        other = accounts.create_user("dan", PASSWORD, "analyst", by=admin)
        saved = store.save_analysis(user=analyst, kind="image", source_name="x.png", rows=[])
        for stranger in (viewer, other):
            with pytest.raises(NotFound):  # not shared: not theirs to see, nor to share
                store.set_shared(saved.id, stranger, shared=True)
        assert store.set_shared(saved.id, analyst, shared=True).shared
        assert [a.id for a in store.analyses(viewer)] == [a.id for a in store.analyses(other)] == [saved.id]
        for stranger in (viewer, other):
            with pytest.raises(PermissionDenied, match="owner"):  # they see it, but it is not theirs
                store.set_shared(saved.id, stranger, shared=False)
        assert not store.set_shared(saved.id, admin, shared=False).shared
        assert store.analyses(viewer) == [] and store.analyses(other) == []

    def test_analyst_cannot_manage_users_or_rules(self, store, people):
        accounts, _, analyst, _ = people
        with pytest.raises(PermissionDenied):
            accounts.create_user("eve", PASSWORD, "admin", by=analyst)
        with pytest.raises(PermissionDenied):
            accounts.set_role("cy", "admin", by=analyst)
        with pytest.raises(PermissionDenied):
            store.save_rule(analyst, Rule("r", "sustained"))

    def test_visibility(self, store, people):
        _, admin, analyst, viewer = people
        own = store.save_analysis(user=analyst, kind="image", source_name="mine.png", rows=[])
        private = store.save_analysis(user=admin, kind="image", source_name="admins.png", rows=[])
        assert {a.id for a in store.analyses(admin)} == {own.id, private.id}
        assert [a.id for a in store.analyses(analyst)] == [own.id]
        with pytest.raises(NotFound):
            store.analysis(private.id, analyst)
        with pytest.raises(NotFound):
            store.delete_analysis(private.id, analyst)
        assert store.analyses(viewer) == []

    def test_filters(self, store, people):
        _, admin, analyst, _ = people
        store.save_analysis(user=analyst, kind="video", source_name="a.mp4", rows=[], label="happy")
        store.save_analysis(user=admin, kind="image", source_name="b.png", rows=[], label="sad")
        assert [a.source_name for a in store.analyses(admin, kind="video")] == ["a.mp4"]
        assert [a.source_name for a in store.analyses(admin, label="sad")] == ["b.png"]
        assert [a.source_name for a in store.analyses(admin, owner="bob")] == ["a.mp4"]
        assert store.analyses(admin, since=utcnow() + timedelta(minutes=1)) == []

    def test_first_user_must_be_admin_and_last_admin_stays(self, store):
        accounts = Accounts(store)
        with pytest.raises(InvalidInputError, match="first user"):
            accounts.create_user("x", PASSWORD, "analyst")
        admin = accounts.create_user("root", PASSWORD, "admin")
        with pytest.raises(InvalidInputError, match="last enabled admin"):
            accounts.set_role("root", "viewer", by=admin)
        with pytest.raises(InvalidInputError, match="password"):
            accounts.create_user("y", "short", "viewer", by=admin)

    def test_registration_makes_viewers_only_after_the_admin(self, store):
        accounts = Accounts(store)
        with pytest.raises(InvalidInputError, match="first user"):
            accounts.register("early", PASSWORD)
        accounts.create_user("root", PASSWORD, "admin")
        assert accounts.register("  newcomer ", PASSWORD).role == "viewer"
        assert accounts.authenticate("newcomer", PASSWORD, source=HOME).role == "viewer"
        with pytest.raises(InvalidInputError, match="taken"):
            accounts.register("newcomer", PASSWORD)


HOME, ELSEWHERE = "192.0.2.10", "198.51.100.20"


def guess(accounts: Accounts, clock: FakeClock, source: str, name: str = "bob") -> None:
    """One wrong password for ``name`` from ``source``, after waiting as long as it is told to."""
    while True:
        try:
            accounts.authenticate(name, "wrong guess", source=source)
        except TooManyAttempts as refused:
            clock.advance(refused.retry_after)
        except AuthenticationFailed:
            return


def wait_of(accounts: Accounts, source: str, name: str = "bob") -> int:
    """Seconds a sign-in with the right password from ``source`` is told to wait."""
    with pytest.raises(TooManyAttempts) as refused:
        accounts.authenticate(name, PASSWORD, source=source)
    return refused.value.retry_after


class ClockedAccounts:
    """Accounts over the store on a clock the test moves by hand."""

    @pytest.fixture()
    def clock(self):
        return FakeClock()

    @pytest.fixture()
    def accounts(self, store, people, clock):
        return Accounts(store, clock=clock)


class TestLogin(ClockedAccounts):
    def test_password_is_hashed_and_checked(self, accounts):
        user = accounts.authenticate("bob", PASSWORD, source=HOME)
        assert user.name == "bob" and user.password_hash.startswith("$2") and PASSWORD not in user.password_hash
        with pytest.raises(AuthenticationFailed, match="wrong name or password"):
            accounts.authenticate("bob", "not the password", source=HOME)
        with pytest.raises(AuthenticationFailed, match="wrong name or password"):
            accounts.authenticate("nobody", PASSWORD, source=HOME)

    def test_back_off_grows_per_source_whatever_the_name(self, accounts, clock):
        waits = []
        for attempt in range(SOURCE_BACKOFF.free + 4):
            guess(accounts, clock, HOME, name=f"nobody{attempt}")  # a different name each time
            if attempt >= SOURCE_BACKOFF.free:
                waits.append(wait_of(accounts, HOME))
                clock.advance(waits[-1])
        assert waits == [1, 2, 4, 8]
        guess(accounts, clock, HOME, name="nobody")
        assert accounts.authenticate("bob", PASSWORD, source=ELSEWHERE).name == "bob"  # at once from elsewhere
        assert wait_of(accounts, HOME) == 16

    def test_a_stranger_keeps_the_owner_out_for_the_account_cap_at_most(self, accounts, clock):
        for _ in range(SOURCE_BACKOFF.free + 8):
            guess(accounts, clock, ELSEWHERE)
        owners_wait = wait_of(accounts, HOME)
        assert owners_wait == ACCOUNT_BACKOFF.cap.total_seconds()
        clock.advance(owners_wait)
        assert accounts.authenticate("bob", PASSWORD, source=HOME).name == "bob"
        assert wait_of(accounts, ELSEWHERE) > 0  # the stranger's own address still waits

    def test_success_resets_the_back_off(self, accounts, clock, people):
        for _ in range(SOURCE_BACKOFF.free + 2):
            guess(accounts, clock, HOME)
        clock.advance(wait_of(accounts, HOME))
        bob = accounts.authenticate("bob", PASSWORD, source=HOME)
        assert bob.failed_logins == 0 and accounts.get(bob.id).locked_until is None
        for _ in range(SOURCE_BACKOFF.free):
            guess(accounts, clock, HOME)  # the free attempts again, from the same address
        assert accounts.authenticate("bob", PASSWORD, source=HOME).name == "bob"

    def test_signing_in_to_ones_own_account_forgives_no_guesses_at_others(self, accounts, clock):
        for _ in range(SOURCE_BACKOFF.free + 1):
            guess(accounts, clock, HOME, name="ada")
        clock.advance(wait_of(accounts, HOME, name="cy"))
        accounts.authenticate("cy", PASSWORD, source=HOME)
        guess(accounts, clock, HOME, name="ada")
        assert wait_of(accounts, HOME, name="cy") == 2  # the address's count went on

    def test_disabled_user_can_neither_sign_in_nor_use_a_token(self, accounts, people):
        _, admin, _, _ = people
        token = accounts.create_token("bob")
        accounts.set_disabled("bob", True, by=admin)
        with pytest.raises(PermissionDenied, match="disabled"):
            accounts.authenticate("bob", PASSWORD, source=HOME)
        with pytest.raises(PermissionDenied, match="disabled"):
            accounts.user_for_token(token, source=HOME)
        with pytest.raises(AuthenticationFailed, match="wrong name or password"):
            accounts.authenticate("bob", "wrong guess", source=HOME)  # no hint to a guesser that it is disabled
        accounts.set_disabled("bob", False, by=admin)
        assert accounts.authenticate("bob", PASSWORD, source=HOME).name == "bob"
        assert accounts.user_for_token(token, source=HOME).name == "bob"

    def test_only_admins_disable_and_one_enabled_admin_stays(self, accounts, people):
        _, admin, analyst, _ = people
        with pytest.raises(PermissionDenied):
            accounts.set_disabled("cy", True, by=analyst)
        with pytest.raises(InvalidInputError, match="last enabled admin"):
            accounts.set_disabled("ada", True, by=admin)
        accounts.set_role("bob", "admin", by=admin)
        accounts.set_disabled("bob", True, by=admin)  # a second admin may be disabled
        with pytest.raises(InvalidInputError, match="last enabled admin"):
            accounts.set_role("ada", "viewer", by=admin)  # the disabled admin does not count
        with pytest.raises(InvalidInputError, match="last enabled admin"):
            accounts.delete_user("ada", by=admin)
        accounts.delete_user("bob", by=admin)  # a disabled admin may go
        assert [(u.name, u.disabled) for u in accounts.users()] == [("ada", False), ("cy", False)]


class TestSessions(ClockedAccounts):
    def test_a_session_lasts_its_lifetime_and_only_a_digest_is_stored(self, store, accounts, people, clock):
        token = accounts.start_session(people[2])
        assert accounts.user_for_session(token).name == "bob"
        with store.session() as session:
            assert token not in session.scalars(select(BrowserSession)).one().digest
        clock.advance(SESSION_LIFETIME.total_seconds() - 1)
        assert accounts.user_for_session(token).name == "bob"
        clock.advance(1)
        assert accounts.user_for_session(token) is None

    def test_signing_out_ends_that_session_only(self, accounts, people):
        first, second = accounts.start_session(people[2]), accounts.start_session(people[2])
        accounts.end_session(first)
        accounts.end_session("no such token")
        assert accounts.user_for_session(first) is None
        assert accounts.user_for_session(second).name == "bob"

    def test_a_disabled_account_loses_its_session(self, accounts, people):
        _, admin, analyst, _ = people
        token = accounts.start_session(analyst)
        accounts.set_disabled("bob", True, by=admin)
        assert accounts.user_for_session(token) is None
        accounts.set_disabled("bob", False, by=admin)
        assert accounts.user_for_session(token) is None  # signed out for good: sign in again

    def test_a_changed_role_shows_at_once(self, accounts, people):
        _, admin, analyst, _ = people
        token = accounts.start_session(analyst)
        accounts.set_role("bob", "viewer", by=admin)
        assert accounts.user_for_session(token).role == "viewer"


class TestPasswords:
    def test_a_user_changes_their_own_keeping_this_browser_only(self, people):
        accounts, _, analyst, _ = people
        here, elsewhere = accounts.start_session(analyst), accounts.start_session(analyst)
        with pytest.raises(AuthenticationFailed, match="wrong name or password"):
            accounts.change_password(analyst, current="not it", new="another long password", source=HOME)
        with pytest.raises(InvalidInputError, match="at least 10"):
            accounts.change_password(analyst, current=PASSWORD, new="short", source=HOME)
        accounts.change_password(analyst, current=PASSWORD, new="another long password", source=HOME,
                                 keep_session=here)
        assert accounts.authenticate("bob", "another long password", source=HOME).name == "bob"
        assert accounts.user_for_session(here).name == "bob" and accounts.user_for_session(elsewhere) is None

    def test_only_an_admin_resets_anothers_and_that_signs_them_out(self, people):
        accounts, admin, analyst, viewer = people
        session = accounts.start_session(viewer)
        with pytest.raises(PermissionDenied):
            accounts.set_password("cy", "chosen by bob!", by=analyst)
        accounts.set_password("cy", "chosen by the admin", by=admin)
        assert accounts.user_for_session(session) is None
        assert accounts.authenticate("cy", "chosen by the admin", source=HOME).name == "cy"
        with pytest.raises(NotFound):
            accounts.set_password("nobody", "chosen by the admin", by=admin)


class TestTokens:
    def test_only_a_digest_is_stored_and_revocation_works(self, store, people):
        accounts, _, analyst, _ = people
        token = accounts.create_token("bob", label="laptop")
        assert token.startswith("el_") and len(token) > 40
        assert accounts.user_for_token(token).name == "bob"
        with store.session() as session:
            stored = session.scalars(select(ApiToken)).one()
            assert token not in (stored.digest, stored.prefix) and len(stored.digest) == 64
        accounts.revoke_token(stored.id, by=analyst)
        with pytest.raises(AuthenticationFailed, match="revoked"):
            accounts.user_for_token(token)

    def test_last_use_is_written_at_most_once_a_minute(self, store, people):
        accounts = people[0]
        token = accounts.create_token("bob")

        def last_used():
            with store.session() as session:
                return session.scalars(select(ApiToken)).one().last_used_at

        accounts.user_for_token(token)
        first = last_used()
        accounts.user_for_token(token)
        assert first is not None and last_used() == first
        with store.session() as session:
            session.scalars(select(ApiToken)).one().last_used_at = utcnow() - TOKEN_USE_GRANULARITY * 2
        accounts.user_for_token(token)
        assert last_used().replace(tzinfo=None) > first.replace(tzinfo=None)

    def test_tokens_for_others_need_an_admin(self, store, people):
        accounts, _, analyst, _ = people
        with pytest.raises(PermissionDenied):
            accounts.create_token("ada", by=analyst)


class TestAlerts:
    def test_rule_fires_on_a_constructed_timeline_and_not_below_threshold(self, store, people):
        _, admin, analyst, _ = people
        store.save_rule(admin, Rule("negative for 3 s", "sustained", threshold=0.6, min_seconds=3.0))
        angry = [result_row(face("angry"), start_s=i / 10) for i in range(40)]
        calm = [result_row(face("happy"), start_s=i / 10) for i in range(40)]
        fired = store.save_analysis(user=analyst, kind="video", source_name="angry.mp4", rows=angry)
        quiet = store.save_analysis(user=analyst, kind="video", source_name="calm.mp4", rows=calm)
        assert len(store.analysis(fired.id, analyst).alerts) == 1
        assert store.analysis(quiet.id, analyst).alerts == []
        (alert,) = store.alerts(analyst, unacknowledged_only=True)
        store.acknowledge_alert(alert.id, analyst)
        assert store.alerts(analyst, unacknowledged_only=True) == []

    def test_bad_rules_are_refused(self, store, people):
        _, admin, *_ = people
        with pytest.raises(InvalidInputError):
            store.save_rule(admin, Rule("r", "sustained", threshold=1.5))
        with pytest.raises(InvalidInputError, match="unknown labels"):
            store.save_rule(admin, Rule("r", "sustained", labels=("grumpy",)))

    def test_a_rule_stored_before_the_checks_still_runs(self, store, people):
        _, _, analyst, _ = people
        with store.session() as session:  # a blank name, which the Admin page once accepted
            session.add(AlertRule(name=" ", kind="sustained", labels=["sad"], threshold=0.5, min_seconds=0))
        saved = store.save_analysis(user=analyst, kind="image", source_name="a.png", rows=rows_of(face("sad")))
        assert [a.rule_name for a in store.analysis(saved.id, analyst).alerts] == [" "]

    def test_rules_are_updated_and_deleted_and_their_alerts_stay(self, store, people):
        _, admin, analyst, _ = people
        saved = store.save_rule(admin, Rule("sad", "sustained", labels=("sad",), threshold=0.5, min_seconds=0))
        store.save_rule(admin, Rule("very sad", "sustained", labels=("sad",), threshold=0.8, min_seconds=0,
                                    rule_id=saved.id))
        assert [(r.id, r.name, r.threshold) for r in store.rules()] == [(saved.id, "very sad", 0.8)]
        fired = store.save_analysis(user=analyst, kind="image", source_name="a.png", rows=rows_of(face("sad")))
        store.delete_rule(admin, saved.id)
        assert store.rules() == []
        assert [a.rule_name for a in store.analysis(fired.id, analyst).alerts] == ["very sad"]
        with pytest.raises(NotFound, match=f"rule {saved.id} does not exist"):
            store.delete_rule(admin, saved.id)


class TestAllOrNothing:
    def test_a_write_interrupted_mid_transaction_leaves_nothing(self, store, people):
        _, _, analyst, _ = people
        rows = [result_row(face("sad"), start_s=0.0), {"modality": "face", "label": None}]  # second row invalid
        with pytest.raises(IntegrityError):  # the database refuses the label-less row mid-transaction
            store.save_analysis(user=analyst, kind="image", source_name="half.png", rows=rows, media=b"\x89PNG",
                                media_suffix=".png")
        with store.session() as session:
            assert session.scalar(select(func.count(Analysis.id))) == 0
            assert session.scalar(select(func.count(TimelineRow.id))) == 0
            assert session.scalar(select(func.count(Alert.id))) == 0
        assert not store.media_dir.exists() or list(store.media_dir.iterdir()) == []


class TestOwnData:
    def test_media_only_when_asked_under_a_generated_name(self, store, people):
        _, _, analyst, _ = people
        plain = store.save_analysis(user=analyst, kind="image", source_name="../../etc/passwd.png", rows=[])
        kept = store.save_analysis(user=analyst, kind="image", source_name="../../etc/passwd.png", rows=[],
                                   media=b"pixels", media_suffix=".png")
        assert plain.media_file is None
        assert kept.media_file.endswith(".png") and "passwd" not in kept.media_file
        assert (store.media_dir / kept.media_file).read_bytes() == b"pixels"

    def test_export_and_delete_really_remove_everything(self, store, people):
        _, admin, analyst, _ = people
        store.save_rule(admin, Rule("any sadness", "sustained", labels=("sad",), threshold=0.5, min_seconds=0))
        store.save_analysis(user=analyst, kind="image", source_name="me.png", rows=rows_of(face("sad")),
                            media=b"face", media_suffix=".png")
        store.save_analysis(user=admin, kind="image", source_name="other.png", rows=rows_of(face("sad")))
        exported = store.export_user_data(analyst)
        assert [a["source_name"] for a in exported["analyses"]] == ["me.png"]
        assert exported["analyses"][0]["rows"][0]["label"] == "sad" and exported["analyses"][0]["alerts"]
        assert store.delete_user_data(analyst) == 1
        assert store.export_user_data(analyst)["analyses"] == []
        assert list(store.media_dir.iterdir()) == []
        with store.session() as session:  # only the admin's analysis, its row and its alert are left
            assert session.scalar(select(func.count(TimelineRow.id))) == 1
            assert session.scalar(select(func.count(Alert.id))) == 1


class TestAnalytics:
    def test_tables_for_the_pages(self, store, people):
        from emotion_core.analytics import (
            alerts_table,
            analyses_table,
            headline,
            label_counts_over_time,
            label_shares_by,
        )
        from emotion_core.analytics import rows_table as stored_rows

        _, admin, analyst, _ = people
        store.save_rule(admin, Rule("sad", "sustained", labels=("sad",), threshold=0.5, min_seconds=0))
        store.save_analysis(user=analyst, kind="image", source_name="a.png", rows=rows_of(face("sad")), label="sad")
        store.save_analysis(user=analyst, kind="image", source_name="b.png", rows=rows_of(face("happy")),
                            label="happy")
        saved = store.save_analysis(user=admin, kind="video", source_name="c.mp4",
                                    rows=rows_of(face("happy"), face("happy")), label="happy")
        store.save_analysis(user=analyst, kind="image", source_name="a.png", rows=[])  # no face: no result
        analyses = store.analyses(admin)
        assert list(analyses_table(analyses)["source"]) == ["a.png", "c.mp4", "b.png", "a.png"]
        counts = label_counts_over_time(analyses, period="day")
        assert counts.set_index("label")["analyses"].to_dict() == {"happy": 2, "no result": 1, "sad": 1}
        assert counts["period"].iloc[0] == utcnow().strftime("%Y-%m-%d")
        shares = label_shares_by(analyses, "kind").set_index("kind")  # each analysis once, not per file name
        assert shares.loc["image", "sad"] == shares.loc["image", "no result"] == 1 / 3
        assert shares.loc["video", "happy"] == 1.0 and shares.loc["video", "no result"] == 0.0
        assert label_shares_by(analyses, "user").set_index("user").loc["bob", "happy"] == 1 / 3
        assert headline(analyses, store.alerts(admin)) == {"analyses": 4, "with_result": 0.75,
                                                          "most_common": "happy", "alerts": 1}
        assert headline([], [])["most_common"] is None
        assert list(stored_rows(store.analysis(saved.id, admin))["label"]) == ["happy", "happy"]
        assert list(alerts_table(store.alerts(admin))["source"]) == ["a.png"]
