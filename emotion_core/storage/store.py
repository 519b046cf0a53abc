"""The history store: analyses with their timelines, alerts, and media that users chose to keep.

SQLite in ``EMOTION_LENS_HOME`` by default (write-ahead log, foreign keys on), PostgreSQL through
``DATABASE_URL``. Alembic migrations bring the schema up to date when the store opens. Every analysis is saved,
with its rows and the alerts it raised, in one transaction: a failure leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload, sessionmaker

from emotion_core.alerts import Rule, evaluate_rules
from emotion_core.errors import InvalidInputError, NotFound, PermissionDenied
from emotion_core.jobs import forget_results, job_json
from emotion_core.permissions import owns, require, sees_everything
from emotion_core.result import SCORE_COLUMNS, EmotionResult, score_columns
from emotion_core.storage.db import Alert, AlertRule, Analysis, Job, TimelineRow, User, utcnow

ANALYSIS_KINDS = ("image", "video", "live", "audio", "text", "multimodal")
_MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".mp4", ".avi", ".mov", ".mkv", ".webm", ".wav",
                   ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".txt", ".srt", ".vtt"}


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


TIMELINE_COLUMNS = ("modality", "start_s", "end_s", "label", "confidence", *SCORE_COLUMNS)
"""The columns of a stored timeline row that :meth:`EmotionResult.to_row` fills; the rest goes in its detail."""
_DETAIL_FIELDS = ("model_id", "frame", "uncertain_reason")


def result_row(result: EmotionResult, *, start_s: float | None = None, track: str | int | None = None,
               **detail: Any) -> dict:
    """A timeline row (as :meth:`HistoryStore.save_analysis` takes it) from an :class:`EmotionResult`.

    The columns are read from :meth:`EmotionResult.to_row`; ``start_s`` stands in for a result without a span
    (a face in a video frame is an instant), and ``detail`` adds to what the row's detail keeps of the result
    (its model, box, frame and why it is uncertain).
    """
    row = result.to_row()
    row.setdefault("start_s", start_s)
    kept = {key: row[key] for key in _DETAIL_FIELDS if row.get(key) not in (None, "")}
    if result.box is not None:
        kept["box"] = list(result.box)
    return {**{column: row.get(column) for column in TIMELINE_COLUMNS},
            "track": None if track is None else str(track), "detail": {**kept, **detail}}


def no_face_row(frame: int, time_s: float) -> dict:
    """The timeline row of a video or live frame in which no face was seen."""
    return {"modality": "face", "start_s": time_s, "end_s": None, "track": None, "label": "no face",
            "confidence": None, "detail": {"frame": frame}, **score_columns({})}


class HistoryStore:
    """The database and the media folder.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
    media_dir : Path
        Where kept media are written, under generated names.
    """

    def __init__(self, *, engine: Engine, media_dir: Path):
        self.engine = engine
        self.media_dir = Path(media_dir)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, media_dir: Path) -> HistoryStore:
        """Connect (creating the SQLite file and its folder if needed) and migrate."""
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        migrate(engine)
        return cls(engine=engine, media_dir=media_dir)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    # Analyses ----------------------------------------------------------------------------------------------

    def save_analysis(self, *, user: User, kind: str, source_name: str, rows: Sequence[dict],
                      summary: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                      label: str | None = None, media: bytes | None = None, media_suffix: str = "",
                      shared: bool = False) -> Analysis:
        """Save an analysis with its timeline rows and the alerts its rows raise, all or nothing.

        ``media`` is written only when given (the user opted in), under a generated name; the uploaded file's
        own name is kept as text only. If the database write fails, the media file is removed again.
        """
        require(user, "analyze")
        if kind not in ANALYSIS_KINDS:
            raise InvalidInputError(f"kind: expected one of {', '.join(ANALYSIS_KINDS)}, got {kind!r}.")
        media_path = self._write_media(media, media_suffix) if media is not None else None
        try:
            with self.session() as session:
                analysis = Analysis(user_id=user.id, kind=kind, source_name=source_name[:255], label=label,
                                    settings=_jsonable(settings or {}), summary=_jsonable(summary or {}),
                                    shared=shared,
                                    media_file=media_path.name if media_path else None)
                analysis.rows = [TimelineRow(**row) for row in rows]
                rules = [Rule(name=r.name, kind=r.kind, labels=tuple(r.labels), threshold=r.threshold,
                              min_seconds=r.min_seconds, rule_id=r.id)
                         for r in session.scalars(select(AlertRule).where(AlertRule.enabled))]
                analysis.alerts = [Alert(rule_id=e.rule.rule_id, rule_name=e.rule.name, start_s=e.start_s,
                                         end_s=e.end_s, detail=e.detail) for e in evaluate_rules(rules, rows)]
                session.add(analysis)
        except BaseException:
            if media_path is not None:
                media_path.unlink(missing_ok=True)
            raise
        return analysis

    def _write_media(self, data: bytes, suffix: str) -> Path:
        suffix = suffix.lower() if suffix.lower() in _MEDIA_SUFFIXES else ".bin"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        path = self.media_dir / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(data)
        return path

    def analyses(self, viewer: User, *, owner: str | None = None, kind: str | None = None, label: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> list[Analysis]:
        """Analyses the viewer may see, newest first: an admin sees all, others their own and shared ones."""
        query = select(Analysis).options(selectinload(Analysis.user)).order_by(Analysis.created_at.desc())
        if not sees_everything(viewer):
            query = query.where((Analysis.user_id == viewer.id) | Analysis.shared)
        if owner:
            query = query.join(Analysis.user).where(User.name == owner)
        for column, value in ((Analysis.kind, kind), (Analysis.label, label)):
            if value:
                query = query.where(column == value)
        if since:
            query = query.where(Analysis.created_at >= since)
        if until:
            query = query.where(Analysis.created_at <= until)
        with self.session() as session:
            return list(session.scalars(query))

    def analysis(self, analysis_id: int, viewer: User) -> Analysis:
        """One analysis with its rows and alerts, if the viewer may see it."""
        with self.session() as session:
            found = session.get(Analysis, analysis_id, options=[selectinload(Analysis.rows),
                                                                selectinload(Analysis.alerts),
                                                                selectinload(Analysis.user)])
            if found is None or not _may_see(viewer, found):
                raise NotFound(f"analysis {analysis_id} does not exist or is not yours to see.")
            return found

    def set_shared(self, analysis_id: int, user: User, *, shared: bool) -> Analysis:
        """Share an analysis with every signed-in user, viewers included, or stop sharing it (its owner or an
        admin may)."""
        with self.session() as session:
            found = session.get(Analysis, analysis_id, options=[selectinload(Analysis.user)])
            if found is None or not _may_see(user, found):
                raise NotFound(f"analysis {analysis_id} does not exist or is not yours to see.")
            if not owns(user, found.user_id):
                raise PermissionDenied("only its owner or an admin may share or unshare an analysis.")
            found.shared = shared
            return found

    def delete_analysis(self, analysis_id: int, user: User) -> None:
        """Delete an analysis, its rows, alerts, kept media and the stored result of the job that made it
        (admins: any; analysts: their own)."""
        require(user, "delete")
        with self.session() as session:
            found = session.get(Analysis, analysis_id)
            if found is None or not owns(user, found.user_id):
                raise NotFound(f"analysis {analysis_id} does not exist or is not yours to delete.")
            media = found.media_file
            forget_results(session, [found.id])
            session.delete(found)
        if media:
            (self.media_dir / media).unlink(missing_ok=True)

    # Alerts ------------------------------------------------------------------------------------------------

    def alerts(self, viewer: User, *, unacknowledged_only: bool = False) -> list[Alert]:
        query = select(Alert).join(Alert.analysis).options(selectinload(Alert.analysis)).order_by(
            Alert.created_at.desc())
        if not sees_everything(viewer):
            query = query.where((Analysis.user_id == viewer.id) | Analysis.shared)
        if unacknowledged_only:
            query = query.where(Alert.acknowledged_at.is_(None))
        with self.session() as session:
            return list(session.scalars(query))

    def acknowledge_alert(self, alert_id: int, user: User) -> None:
        require(user, "acknowledge")
        with self.session() as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                raise NotFound(f"alert {alert_id} does not exist.")
            alert.acknowledged_at, alert.acknowledged_by = utcnow(), user.name

    def rules(self) -> list[AlertRule]:
        with self.session() as session:
            return list(session.scalars(select(AlertRule).order_by(AlertRule.id)))

    def save_rule(self, user: User, rule: Rule, *, enabled: bool = True) -> AlertRule:
        """Add a rule, or update the one with ``rule.rule_id``, once :meth:`Rule.check` passes."""
        require(user, "manage_rules")
        rule.check()
        with self.session() as session:
            row = session.get(AlertRule, rule.rule_id) if rule.rule_id else AlertRule()
            if row is None:
                raise NotFound(f"rule {rule.rule_id} does not exist.")
            row.name, row.kind, row.labels = rule.name, rule.kind, list(rule.labels)
            row.threshold, row.min_seconds, row.enabled = rule.threshold, rule.min_seconds, enabled
            session.add(row)
        return row

    def delete_rule(self, user: User, rule_id: int) -> None:
        """Delete a rule; the alerts it raised stay, under the rule's name."""
        require(user, "manage_rules")
        with self.session() as session:
            row = session.get(AlertRule, rule_id)
            if row is None:
                raise NotFound(f"rule {rule_id} does not exist.")
            session.delete(row)

    # A user's own data ---------------------------------------------------------------------------------------

    def export_user_data(self, user: User) -> dict[str, Any]:
        """Everything stored about a user, as JSON-ready data (kept media are listed by file name)."""
        with self.session() as session:
            analyses = session.scalars(select(Analysis).where(Analysis.user_id == user.id).options(
                selectinload(Analysis.rows), selectinload(Analysis.alerts)).order_by(Analysis.id)).all()
            jobs = session.scalars(select(Job).where(Job.user_id == user.id).order_by(Job.created_at)).all()
            return {
                "user": {"name": user.name, "role": user.role, "created_at": user.created_at.isoformat()},
                "analyses": [_analysis_record(a) for a in analyses],
                "jobs": [job_json(job) for job in jobs],
            }

    def delete_user_data(self, user: User) -> int:
        """Delete every analysis of the user, with rows, alerts, kept media and job results; returns how many."""
        with self.session() as session:
            analyses = session.scalars(select(Analysis).where(Analysis.user_id == user.id)).all()
            media = [a.media_file for a in analyses if a.media_file]
            forget_results(session, [a.id for a in analyses])
            for analysis in analyses:
                session.delete(analysis)
        for name in media:
            (self.media_dir / name).unlink(missing_ok=True)
        return len(analyses)


def _may_see(viewer: User, analysis: Analysis) -> bool:
    return owns(viewer, analysis.user_id) or analysis.shared


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON types only (numpy scalars and the like become numbers or strings)."""
    def convert(value: Any) -> Any:
        return value.item() if hasattr(value, "item") else str(value)

    return json.loads(json.dumps(data, default=convert))


def _analysis_record(analysis: Analysis) -> dict[str, Any]:
    return {
        "id": analysis.id, "created_at": analysis.created_at.isoformat(), "kind": analysis.kind,
        "source_name": analysis.source_name, "label": analysis.label, "settings": analysis.settings,
        "summary": analysis.summary, "shared": analysis.shared, "media_file": analysis.media_file,
        "rows": [{"modality": r.modality, "start_s": r.start_s, "end_s": r.end_s, "track": r.track, "label": r.label,
                  "confidence": r.confidence, **{column: getattr(r, column) for column in SCORE_COLUMNS}}
                 for r in analysis.rows],
        "alerts": [{"rule": a.rule_name, "start_s": a.start_s, "end_s": a.end_s, "detail": a.detail,
                    "acknowledged_by": a.acknowledged_by} for a in analysis.alerts],
    }
