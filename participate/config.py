"""Configuration: defaults, then the environment, then the mapping a caller (a test) passes in."""

import contextlib
import os
import secrets
from pathlib import Path

ENV_PREFIX = "PARTICIPATE_"


class Defaults:
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PARTICIPANT_COOKIE = "participant"
    PARTICIPANT_COOKIE_MAX_AGE = 365 * 24 * 3600
    WTF_CSRF_TIME_LIMIT = None  # a participant may leave a statement open for hours; the token is session-bound
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ("en", "cy")
    ANALYSIS_RUNNER = "thread"  # "thread" (in-process, default), "sync" (tests) or "rq" (REDIS_URL set)
    ANALYSIS_DEBOUNCE_SECONDS = 1.0
    # One consultation's analyses take at most this share of the time: after an analysis of t seconds the next one
    # waits 4 t (0.3 s: the debounce as before; a million votes, 20 s: 80 s), leaving the cores to votes and pages.
    ANALYSIS_MAX_SHARE = 0.2
    # The robustness check and integrity annex run when voting pauses, and at least this often while it does not
    # (each costs several snapshots); the report shows the newest checked snapshot meanwhile.
    ANALYSIS_CHECKS_INTERVAL_SECONDS = 60
    ANALYSIS_LEASE_SECONDS = 60  # rq: a consultation's job lease; a dead worker's lease expires after this
    # rq: a web process asks Redis for a consultation's analysis at most this often (0: after every vote).
    ANALYSIS_ASK_SECONDS = 0.2
    ANALYSIS_QUEUE = "participate-analysis"
    JOBS_QUEUE = "participate-jobs"  # rq: long work (imports, exports, PDFs), apart so analyses never wait behind it
    JOBS_FOLDER = None  # uploads to import and exports to download; default: the instance folder's jobs/
    JOB_THREADS = 1  # thread runner: background threads per process for long work
    # Consultations with more votes than this have their report, monitor figures and exports built by a job, never
    # in a staff page's request (smaller ones are built in the request: it takes milliseconds).
    LARGE_VOTES = 100_000
    PDF_PREBUILD = True  # build the report's PDF in the background when a snapshot is checked or published
    REDIS_URL = None
    # Connection pool of each web or worker process (PostgreSQL): keep gunicorn threads <= pool size + overflow.
    DB_POOL_SIZE = 10
    DB_MAX_OVERFLOW = 10
    DB_POOL_TIMEOUT = 10
    DB_POOL_RECYCLE = 1800
    # No ping before each request's query (a round trip per request): after a database restart the first request
    # that meets a dropped connection fails, and SQLAlchemy then replaces every pooled connection of the process.
    DB_POOL_PRE_PING = False
    # Rate limits (Flask-Limiter syntax, ";" between limits); PARTICIPATE_VOTE_RATE_LIMIT etc. override them.
    # Votes and statements count per participant. New participants count per device first (its cookie, else its
    # address and browser), then per network (hashed IP address): one school, council or hall behind one address
    # brings many people. The network allowance fits a hall of 500 arriving in five minutes, half of them in the
    # first minute; a consultation in event mode (a setting) gets EVENT_NEW_PARTICIPANT_RATE_LIMIT instead.
    VOTE_RATE_LIMIT = "120 per minute;3000 per hour"
    STATEMENT_RATE_LIMIT = "10 per minute;60 per hour"
    NEW_PARTICIPANT_DEVICE_RATE_LIMIT = "10 per minute;30 per hour"
    NEW_PARTICIPANT_RATE_LIMIT = "300 per minute;600 per 5 minutes;1500 per hour"
    EVENT_NEW_PARTICIPANT_RATE_LIMIT = "3000 per minute;6000 per 5 minutes;15000 per hour"
    # Sign-in attempts per hashed address, counted before any password is checked; above 5 failures for one account
    # from one address, an exponential back-off for that account there (so one person's typos lock out nobody else).
    LOGIN_RATE_LIMIT = "20 per minute;100 per hour"
    # Argon2 checks at once per process (64 MiB each); a sign-in waits this long for a slot, then gets a 503.
    ARGON2_CONCURRENCY = 2
    ARGON2_WAIT_SECONDS = 5.0
    # Argon2id's cost per password: passes over memory, and KiB of memory (argon2-cffi's default, RFC 9106's).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 65536
    # PDF downloads per hashed address (a report's PDF costs seconds of CPU to make).
    PDF_RATE_LIMIT = "10 per minute;60 per hour"
    # Privacy: hashed IP addresses (kept on participants for rate limiting and the integrity annex only) are
    # deleted after this many days by ``participate purge``.
    IP_HASH_RETENTION_DAYS = 30
    # What deleting one's own contributions does to their statements: "anonymise" (keep the text, drop the author)
    # or "remove" (delete the statements and everyone's votes on them).
    DELETED_STATEMENTS = "anonymise"
    # Named on the privacy page when set (PARTICIPATE_DATA_CONTROLLER, PARTICIPATE_CONTACT): who is responsible for
    # the data, and an email or web address for questions and requests about it.
    DATA_CONTROLLER = ""
    CONTACT = ""
    LOG_JSON = False  # one JSON object per log line (``participate serve --production`` turns it on)


def _secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, creating it once; there is deliberately no hard-coded fallback."""
    path = instance_path / "secret_key"
    if not path.exists():
        _owner_only_folder(instance_path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def _owner_only_folder(folder: Path) -> None:
    """Create ``folder`` readable by its owner only (0700): it holds the secret key and the SQLite database."""
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is filtered by the umask


def _owner_only_sqlite(url: str, instance: Path) -> None:
    """Create a new SQLite database file readable by its owner only (0600) before SQLite creates it with the
    umask's (often world-readable) mode: it holds XID secrets, report keys and invite codes. SQLite gives its
    -wal and -shm files the database file's mode."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path = path if path.is_absolute() else instance / path
    if path.exists():
        return
    _owner_only_folder(path.parent)
    with contextlib.suppress(FileExistsError):  # another process made it first
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _coerce(value: str):
    """Environment values are strings; turn the obvious ones into booleans and numbers."""
    lowered = value.lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def database_url(url: str) -> str:
    """Plain ``postgres://``/``postgresql://`` URLs (as hosting platforms give them) use psycopg 3, which we ship."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def engine_options(config) -> dict:
    """SQLAlchemy pool settings for a server database, from ``PARTICIPATE_DB_*``."""
    return {
        "pool_size": int(config["DB_POOL_SIZE"]),
        "max_overflow": int(config["DB_MAX_OVERFLOW"]),
        "pool_timeout": float(config["DB_POOL_TIMEOUT"]),
        "pool_recycle": int(config["DB_POOL_RECYCLE"]),
        "pool_pre_ping": bool(config["DB_POOL_PRE_PING"]),
    }


def load(app, config: dict | None) -> None:
    """Layer the configuration onto ``app.config``."""
    app.config.from_object(Defaults)
    instance = Path(app.instance_path)
    for key, value in os.environ.items():
        if key.startswith(ENV_PREFIX):
            app.config[key.removeprefix(ENV_PREFIX)] = _coerce(value)
    if os.environ.get("REDIS_URL"):
        app.config["REDIS_URL"] = os.environ["REDIS_URL"]
        app.config["ANALYSIS_RUNNER"] = "rq"
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'participate.sqlite'}")
    )
    if config:
        app.config.update(config)
    if "SQLALCHEMY_ENGINE_OPTIONS" not in app.config and not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _secret_key(instance)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _owner_only_folder(instance)
        _owner_only_sqlite(app.config["SQLALCHEMY_DATABASE_URI"], instance)
