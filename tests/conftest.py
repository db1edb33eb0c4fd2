"""Fixtures: an app on a fresh, migrated database per test, a CSRF-aware client, and small factories."""

import os
import re
import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from participate import background, create_app
from participate.extensions import db
from participate.models import (
    Consultation,
    ConsultationStatus,
    ModerationMode,
    ReportVisibility,
)
from participate.services import monitoring, polis_exchange, publishing, report
from participate.services import statements as statement_service
from participate.services.snapshots import runner
from participate.views import report as report_views

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def app_config(url: str) -> dict:
    """The test configuration of an app on the database at ``url`` (for tests that create their own app)."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "ANALYSIS_RUNNER": "sync",
        "PDF_PREBUILD": False,  # a PDF costs seconds: the tests of it turn this on
        "ARGON2_TIME_COST": 1,  # a cheap hash: a sign-in costs a millisecond, not a third of a CPU second
        "ARGON2_MEMORY_KIB": 64,
    }


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database backend for the tests: sqlite (default) or postgresql (a throw-away local cluster, or "
        "the server at PARTICIPATE_TEST_POSTGRESQL_URL)",
    )
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use a database (scripts/test's second pass: the rest does not depend on it)",
    )


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--database-tests-only"):
        return
    keep = [item for item in items if "databases" in getattr(item, "fixturenames", ())]
    dropped = [item for item in items if "databases" not in getattr(item, "fixturenames", ())]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


class SQLiteDatabases:
    """A database migrated once, copied to a fresh file for every test (migrations take ~0.2 s)."""

    name = "sqlite"

    def __init__(self, base: Path):
        self.base = base
        self.template = base / "template.sqlite"
        self.count = 0

    def template_url(self) -> str:
        return f"sqlite:///{self.template}"

    def create(self) -> str:
        self.count += 1
        path = self.base / f"test{self.count}.sqlite"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def close(self) -> None:
        pass


class PostgresDatabases:
    """A template database migrated once; each test gets ``CREATE DATABASE ... TEMPLATE`` (a file copy)."""

    name = "postgresql"
    # One template per pytest-xdist worker (each worker has its own cluster, but may share PARTICIPATE_TEST_...).
    TEMPLATE = f"participate_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"

    def __init__(self):
        import psycopg
        from sqlalchemy.engine import make_url

        from .servers import PostgresCluster

        self.cluster = None
        existing = os.environ.get("PARTICIPATE_TEST_POSTGRESQL_URL")
        if existing:
            self.server = make_url(existing).set(drivername="postgresql+psycopg")
        else:
            self.cluster = PostgresCluster().start()
            self.server = make_url(self.cluster.url())
        self.admin = psycopg.connect(
            host=self.server.host,
            port=self.server.port,
            user=self.server.username,
            password=self.server.password,
            dbname=self.server.database or "postgres",
            autocommit=True,
        )
        self.prefix = f"participate_test_{os.getpid()}_"
        self.count = 0
        # A file copy is much faster than PostgreSQL 15's default WAL-logged copy for a small template.
        self.strategy = " STRATEGY FILE_COPY" if self.admin.info.server_version >= 150000 else ""
        self._recreate(self.TEMPLATE)

    def _recreate(self, name: str, template: str | None = None) -> str:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"{self.strategy}' if template else ""))
        return self.server.set(database=name).render_as_string(hide_password=False)

    def template_url(self) -> str:
        return self.server.set(database=self.TEMPLATE).render_as_string(hide_password=False)

    def create(self) -> str:
        self.count += 1
        return self._recreate(f"{self.prefix}{self.count}", self.TEMPLATE)

    def drop(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self.admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.TEMPLATE}" WITH (FORCE)')
        self.admin.close()
        if self.cluster is not None:
            self.cluster.stop()


@pytest.fixture(scope="session")
def databases(request, tmp_path_factory):
    """The backend chosen with ``--db``, with a template database upgraded once by the real migrations."""
    if request.config.getoption("--db") == "postgresql":
        backend = PostgresDatabases()
    else:
        backend = SQLiteDatabases(tmp_path_factory.mktemp("databases"))
    try:
        app = create_app(app_config(backend.template_url()))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield backend
    finally:
        backend.close()


@pytest.fixture
def database_url(databases):
    """A fresh, migrated, empty database for one test, dropped afterwards."""
    url = databases.create()
    yield url
    databases.drop(url)


@pytest.fixture
def app(database_url):
    app = create_app(app_config(database_url))
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
        db.session.add_all(statement_service.seed(consultation.id, text) for text in statements)
        db.session.commit()
        return consultation

    return make


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real Pol.is data not available: {SHARED_DATA} is absent (it ships only with ../shared)")
    return SHARED_DATA


@pytest.fixture
def shared_conversations(shared_data):
    """Each shared Pol.is conversation as ``(folder, consultation)``, imported, its report public and analysed."""

    folders = sorted(p for p in (shared_data / "polis").iterdir() if p.is_dir())
    assert folders, f"no conversations in {shared_data / 'polis'}"

    def each():
        for folder in folders:
            consultation = polis_exchange.import_export(db.session, folder, slug=folder.name[:60].replace(".", "-"))
            consultation.report_visibility = ReportVisibility.PUBLIC  # imports are private until a facilitator says
            db.session.commit()
            runner.analyse(db.session, consultation.id)
            yield folder, consultation

    return each()


# ---- Staff accounts, signed in through the real login route ----

STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_account(app):
    """Create a staff account: ``make_account("facilitator")`` or ``make_account("admin", "a@example.org")``."""
    from participate.models import Role
    from participate.services import accounts

    def make(role="facilitator", email=None):
        return accounts.create(db.session, email or f"{role}@example.org", STAFF_PASSWORD, Role(role))

    return make


@pytest.fixture
def login(make_account):
    """``login(client, "moderator")``: create an account of that role (or reuse ``account=``) and sign in with it."""

    def sign_in(client, role="facilitator", *, email=None, account=None):
        account = account or make_account(role, email)
        response = client.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD})
        assert response.status_code == 302, response.text
        return account

    return sign_in


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server on a loopback port for the whole run (scripts/system-deps installs redis-server)."""
    from .servers import RedisServer

    server = RedisServer()
    try:
        server.start()
    except RuntimeError as error:
        pytest.skip(f"redis-server unavailable: {error}")
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The private Redis, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


# ---- Long work off the request path: jobs queued but not run, and builders that must not run ----


@pytest.fixture
def queued(monkeypatch):
    """Jobs are created and queued but not run, as when the runner is busy: ``queued`` lists their kinds
    (``factories.run_queued()`` then does what a worker does)."""
    seen = []
    real_submit = background.submit

    def submit(kind, **kwargs):
        seen.append(kind)
        return real_submit(kind, **kwargs)

    monkeypatch.setattr(background, "submit", submit)
    monkeypatch.setattr(background, "execute", lambda app, job_id: None)
    return seen


@pytest.fixture
def no_heavy_work(monkeypatch):
    """``no_heavy_work()``: from then on, builders fail the test when called — the report, a PDF, the monitor's
    figures, an export, a publication."""

    def refuse(name):
        def spy(*args, **kwargs):
            raise AssertionError(f"{name} ran on the request path")

        return spy

    def forbid():
        monkeypatch.setattr(report, "build_fresh", refuse("the report build"))
        monkeypatch.setattr(report_views, "render_pdf", refuse("the PDF build"))
        monkeypatch.setattr(monitoring, "monitor", refuse("the monitor's figures"))
        monkeypatch.setattr(polis_exchange, "export_zip", refuse("the export"))
        monkeypatch.setattr(publishing, "publish", refuse("the publication"))

    return forbid


# ---- The rate limiter's time ----


class LimiterClock:
    """The rate limiter's clock (limits' in-memory storage reads ``time.time()``): it moves only when the test
    moves ``now``, so a limit's window never closes because the machine is slow."""

    def __init__(self):
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def limiter_clock(monkeypatch) -> LimiterClock:
    """Stop the rate limiter's clock for this test (``limiter_clock.now += 61``: a minute later)."""
    import limits.storage.memory

    clock = LimiterClock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    return clock
