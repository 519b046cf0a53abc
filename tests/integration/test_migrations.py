"""Migrations on a database that holds data from before them."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import emotion_core


def upgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(emotion_core.__file__).parent / "storage" / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_0002_forgets_transcript_words_stored_without_consent(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    now = "2026-11-30 12:00:00"
    with engine.begin() as db:
        db.execute(sa.text("INSERT INTO users (id, name, password_hash, role, created_at, failed_logins) "
                           "VALUES (1, 'ada', 'x', 'admin', :now, 0)"), {"now": now})
        for analysis_id, media in ((1, None), (2, "kept.mp4")):
            db.execute(sa.text("INSERT INTO analyses (id, user_id, created_at, kind, source_name, settings, summary, "
                               "shared, media_file) VALUES (:id, 1, :now, 'multimodal', 'talk.mp4', '{}', '{}', 0, "
                               ":media)"), {"id": analysis_id, "now": now, "media": media})
            db.execute(sa.text("INSERT INTO timeline_rows (analysis_id, modality, label, detail) VALUES "
                               "(:id, 'text', 'happy', :detail)"),
                       {"id": analysis_id, "detail": '{"model_id": "t", "text": "my secret words"}'})
    upgrade(engine, "head")
    with engine.connect() as db:
        details = dict(db.execute(sa.text("SELECT analysis_id, detail FROM timeline_rows")).all())
    assert "secret" not in details[1] and '"model_id": "t"' in details[1]
    assert "my secret words" in details[2]  # kept with the upload: the user opted in
    engine.dispose()
