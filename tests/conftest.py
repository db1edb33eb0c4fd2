"""Fixtures: an app on a fresh, migrated database per test, a CSRF-aware client, and small factories."""

import re
import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from participate import create_app
from participate.extensions import db
from participate.models import (
    Consultation,
    ConsultationStatus,
    ModerationMode,
    ModerationState,
    Statement,
    StatementOrigin,
)
from participate.services import statements as statement_service

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _config(database: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "ANALYSIS_RUNNER": "sync",
    }


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """A database upgraded once with the real migrations, copied for every test (migrations take ~0.2 s)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    app = create_app(_config(path))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def app(tmp_path, migrated_template):
    database = tmp_path / "test.sqlite"
    shutil.copyfile(migrated_template, database)
    app = create_app(_config(database))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


class Client:
    """A test client that fetches and sends the CSRF token like a browser would."""

    def __init__(self, app):
        self.http = app.test_client()

    def __getattr__(self, name):
        return getattr(self.http, name)

    def csrf_token(self) -> str:
        return self.http.get("/api/v1/session").get_json()["csrf_token"]

    def post_form(self, url: str, data: dict, **kwargs):
        return self.http.post(url, data={"csrf_token": self.csrf_token(), **data}, **kwargs)

    def post_json(self, url: str, body, **kwargs):
        return self.http.post(url, json=body, headers={"X-CSRFToken": self.csrf_token()}, **kwargs)


@pytest.fixture
def client(app) -> Client:
    return Client(app)


@pytest.fixture
def other_client(app) -> Client:
    """A second browser: a different participant."""
    return Client(app)


def page_csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def make_consultation(app):
    def make(
        slug="test",
        *,
        status=ConsultationStatus.OPEN,
        moderation=ModerationMode.POST,
        allow_statements=True,
        statements=("Seed one", "Seed two", "Seed three"),
    ) -> Consultation:
        consultation = Consultation(
            slug=slug,
            title=f"Title {slug}",
            question=f"Question {slug}?",
            status=status,
            moderation=moderation,
            allow_statements=allow_statements,
        )
        db.session.add(consultation)
        db.session.flush()
        for text in statements:
            db.session.add(
                Statement(
                    consultation_id=consultation.id,
                    text=text,
                    text_key=statement_service.text_key(text),
                    origin=StatementOrigin.SEED,
                    moderation=ModerationState.ACCEPTED,
                )
            )
        db.session.commit()
        return consultation

    return make


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real Pol.is data not available: {SHARED_DATA} is absent (it ships only with ../shared)")
    return SHARED_DATA
