"""Production entry points and settings: the pool from the environment, gunicorn, the worker command, JSON logs."""

import json
import logging
import time

import pytest

from participate import cli, create_app, logs


def _app(tmp_path, monkeypatch, url: str, **env):
    monkeypatch.setattr("participate.Flask.auto_find_instance_path", lambda self: str(tmp_path / "inst"))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app()


def test_postgresql_pool_comes_from_the_environment(tmp_path, monkeypatch):
    app = _app(
        tmp_path, monkeypatch, "postgres://u:p@db.internal/participate",
        PARTICIPATE_DB_POOL_SIZE="7", PARTICIPATE_DB_MAX_OVERFLOW="3", PARTICIPATE_DB_POOL_PRE_PING="false",
    )  # fmt: skip
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal/participate"
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["max_overflow"], options["pool_pre_ping"]) == (7, 3, False)


def test_sqlite_gets_no_pool_options_and_redis_url_selects_the_queue(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'x.sqlite'}", REDIS_URL="redis://queue:6379/0")
    assert not app.config.get("SQLALCHEMY_ENGINE_OPTIONS")  # SQLite: no pool settings
    assert app.config["ANALYSIS_RUNNER"] == "rq" and app.config["REDIS_URL"] == "redis://queue:6379/0"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://queue:6379/0"  # every process counts together


def test_without_redis_rate_limits_are_counted_per_process(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert app.config["RATELIMIT_STORAGE_URI"] == "swept-memory://"


@pytest.mark.parametrize(
    ("args", "bind"), [(["--production"], None), (["--production", "--port", "9000"], "127.0.0.1:9000")]
)
def test_serve_production_execs_gunicorn_with_the_repository_config(app, monkeypatch, args, bind):
    calls = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: calls.append(argv))
    result = app.test_cli_runner().invoke(args=["serve", *args])
    assert result.exit_code == 0, result.output
    (argv,) = calls
    assert argv[1:5] == ["-m", "gunicorn", "--config", str(cli.GUNICORN_CONF)] and cli.GUNICORN_CONF.is_file()
    assert (argv[argv.index("--bind") + 1] if "--bind" in argv else None) == bind


def test_worker_needs_redis(app):
    app.config["REDIS_URL"] = None
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output


def test_json_log_lines_carry_the_message_and_extra_fields():
    record = logging.LogRecord("participate.jobs", logging.WARNING, __file__, 1, "lag %d s", (3,), None)
    record.consultation_id = 12
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "lag 3 s" and line["level"] == "WARNING" and line["consultation_id"] == 12


def test_after_the_database_drops_its_connections_one_request_fails_then_service_resumes(app, databases, client):
    """No pre-ping (it costs a round trip per request): a dropped connection fails one request, then the pool renews."""
    if databases.name != "postgresql":
        pytest.skip("only a server database drops connections (run with --db=postgresql)")
    from sqlalchemy.engine import make_url

    from participate.extensions import db

    assert client.get("/healthz").status_code == 200
    db.session.remove()  # the connection goes back to the pool, as at the end of a real request
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    others = "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    databases.admin.execute(f"SELECT pg_terminate_backend(pid) {others}", (database,))
    deadline = time.monotonic() + 60  # termination is asynchronous: wait until the server has closed them
    while databases.admin.execute(f"SELECT count(*) {others}", (database,)).fetchone()[0]:
        assert time.monotonic() < deadline, "the server did not close the terminated connections"
        time.sleep(0.05)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the failure is a 500 page, not a crash
    assert client.get("/healthz").status_code == 500
    db.session.remove()
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
