"""A fresh history store per test: a SQLite file, and PostgreSQL too when EMOTION_LENS_TEST_DATABASE_URL
names a database the tests may empty (.ci/run starts one)."""

import os

import pytest
from sqlalchemy import create_engine, text

from emotion_core.accounts import Accounts
from emotion_core.storage.store import HistoryStore

PASSWORD = "a long enough password"

POSTGRES_URL = os.environ.get("EMOTION_LENS_TEST_DATABASE_URL")


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.db'}"
    elif POSTGRES_URL:
        url = POSTGRES_URL
        _empty_postgres(url)
    else:
        pytest.skip("no PostgreSQL server (set EMOTION_LENS_TEST_DATABASE_URL)")
    opened = HistoryStore.open(url, media_dir=tmp_path / "media")
    yield opened
    opened.engine.dispose()


@pytest.fixture()
def people(store):
    """Accounts over ``store`` and one user of each role: ada (admin), bob (analyst), cy (viewer)."""
    accounts = Accounts(store)
    admin = accounts.create_user("ada", PASSWORD, "admin")
    analyst = accounts.create_user("bob", PASSWORD, "analyst", by=admin)
    viewer = accounts.create_user("cy", PASSWORD, "viewer", by=admin)
    return accounts, admin, analyst, viewer
