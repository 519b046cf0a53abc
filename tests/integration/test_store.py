"""The history store and accounts on a real database file (and PostgreSQL when one is available)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from emotion_core.accounts import MAX_FAILED_LOGINS, TOKEN_USE_GRANULARITY, Accounts
from emotion_core.alerts import Rule
from emotion_core.db import Alert, AlertRule, Analysis, ApiToken, TimelineRow, utcnow
from emotion_core.errors import AuthenticationFailed, InvalidInputError, NotFound, PermissionDenied
from emotion_core.labels import EMOTIONS
from emotion_core.result import EmotionResult
from emotion_core.store import result_row

PASSWORD = "a long enough password"


@pytest.fixture()
def people(store):
    accounts = Accounts(store)
    admin = accounts.create_user("ada", PASSWORD, "admin")
    analyst = accounts.create_user("bob", PASSWORD, "analyst", by=admin)
    viewer = accounts.create_user("cy", PASSWORD, "viewer", by=admin)
    return accounts, admin, analyst, viewer


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


class TestRoles:
    def test_viewer_cannot_analyse_or_delete(self, store, people):
        _, admin, _, viewer = people
        with pytest.raises(PermissionDenied):
            store.save_analysis(user=viewer, kind="image", source_name="x.png", rows=[])
        saved = store.save_analysis(user=admin, kind="image", source_name="x.png", rows=[], shared=True)
        with pytest.raises(PermissionDenied):
            store.delete_analysis(saved.id, viewer)
        assert [a.id for a in store.analyses(viewer)] == [saved.id]  # shared: visible, read only

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
        with pytest.raises(InvalidInputError, match="last admin"):
            accounts.set_role("root", "viewer", by=admin)
        with pytest.raises(InvalidInputError, match="password"):
            accounts.create_user("y", "short", "viewer", by=admin)

    def test_registration_makes_viewers_only_after_the_admin(self, store):
        accounts = Accounts(store)
        with pytest.raises(InvalidInputError, match="first user"):
            accounts.register("early", PASSWORD)
        accounts.create_user("root", PASSWORD, "admin")
        assert accounts.register("  newcomer ", PASSWORD).role == "viewer"
        assert accounts.authenticate("newcomer", PASSWORD).role == "viewer"
        with pytest.raises(InvalidInputError, match="taken"):
            accounts.register("newcomer", PASSWORD)


class TestLogin:
    def test_password_is_hashed_and_checked(self, store, people):
        accounts, *_ = people
        user = accounts.authenticate("bob", PASSWORD)
        assert user.name == "bob" and user.password_hash.startswith("$2") and PASSWORD not in user.password_hash
        with pytest.raises(AuthenticationFailed, match="wrong name or password"):
            accounts.authenticate("bob", "not the password")
        with pytest.raises(AuthenticationFailed, match="wrong name or password"):
            accounts.authenticate("nobody", PASSWORD)

    def test_lockout_after_repeated_failures(self, store, people):
        accounts, *_ = people
        for _ in range(MAX_FAILED_LOGINS):
            with pytest.raises(AuthenticationFailed):
                accounts.authenticate("bob", "wrong guess")
        with pytest.raises(AuthenticationFailed, match="try again in 15 min"):
            accounts.authenticate("bob", PASSWORD)  # even the right password waits


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
        from emotion_core.analytics import alerts_table, analyses_table, label_counts_over_time, label_shares_by
        from emotion_core.analytics import rows_table as stored_rows

        _, admin, analyst, _ = people
        store.save_rule(admin, Rule("sad", "sustained", labels=("sad",), threshold=0.5, min_seconds=0))
        store.save_analysis(user=analyst, kind="image", source_name="a.png", rows=rows_of(face("sad")), label="sad")
        store.save_analysis(user=analyst, kind="image", source_name="b.png", rows=rows_of(face("happy")),
                            label="happy")
        saved = store.save_analysis(user=admin, kind="video", source_name="c.mp4",
                                    rows=rows_of(face("happy"), face("happy")), label="happy")
        analyses = store.analyses(admin)
        assert list(analyses_table(analyses)["source"]) == ["c.mp4", "b.png", "a.png"]
        counts = label_counts_over_time(analyses, period="day")
        assert counts.set_index("label")["analyses"].to_dict() == {"happy": 2, "sad": 1}
        assert counts["period"].iloc[0] == utcnow().strftime("%Y-%m-%d")
        shares = label_shares_by(analyses, "kind").set_index("kind")
        assert shares.loc["image", "sad"] == 0.5 and shares.loc["video", "happy"] == 1.0
        assert list(stored_rows(store.analysis(saved.id, admin))["label"]) == ["happy", "happy"]
        assert list(alerts_table(store.alerts(admin))["source"]) == ["a.png"]
