"""Web security baseline: CSRF on every POST, framing, cookies, open redirects, uploads, bound SQL parameters."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from participate import create_app
from participate.extensions import db
from participate.security import ip_hash
from tests.conftest import STAFF_PASSWORD, app_config

ROOT = Path(__file__).resolve().parents[1]


def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _fill(rule) -> str:
    """A concrete URL for a rule: the test consultation's slug, id 1, a dummy token, JSON format."""
    values = {}
    for name, converter in rule._converters.items():
        kinds = {c.__name__ for c in type(converter).__mro__}  # the app's int converter subclasses werkzeug's
        values[name] = 1 if "IntegerConverter" in kinds else "json" if "AnyConverter" in kinds else "test"
    return rule.build(values)[1]


def test_every_post_route_refuses_a_request_without_csrf_token(app, client, make_consultation, login):
    make_consultation()
    login(client, "admin")  # signed in, so nothing is refused for a reason other than the missing token
    client.get("/c/test")  # and a participant cookie
    before = _row_counts()
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(rules) >= 20
    refused = {}
    for rule in rules:
        url = _fill(rule)
        form = client.post(url, data={"text": "Forged", "vote": "agree", "statement_id": "1", "email": "a@b.c"})
        body = client.post(url, json={"text": "Forged", "vote": "agree", "statement_id": 1})
        refused[rule.rule] = (form.status_code, body.status_code)
    assert {rule: codes for rule, codes in refused.items() if codes != (400, 400)} == {}
    db.session.rollback()
    assert _row_counts() == before


def test_participation_pages_are_embeddable_and_nothing_else(client, make_consultation):
    make_consultation()
    embed = client.get("/c/test")
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers
    for path in ("/", "/c/test/report", "/login", "/privacy", "/c/test/mine"):  # My votes is private: never framed
        response = client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_participant_cookie_is_httponly_samesite_and_secure_over_https(client, make_consultation):
    make_consultation()
    plain = client.get("/c/test").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure = client.get("/c/test", base_url="https://localhost").headers.getlist("Set-Cookie")
    assert any(c.startswith("participant=") and "Secure" in c for c in secure) or secure == []


def test_session_cookie_secure_when_the_site_is_https(database_url):
    app = create_app({**app_config(database_url), "PREFERRED_URL_SCHEME": "https"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert create_app(app_config(database_url)).config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("hops", [0, 1])
def test_forwarded_addresses_are_trusted_only_when_configured(database_url, hops):
    app = create_app({**app_config(database_url), "PROXY_FIX": hops})
    seen = []
    app.add_url_rule("/_whoami", "whoami", lambda: seen.append(ip_hash()) or "ok")
    http = app.test_client()
    http.get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    with app.test_request_context():
        forwarded, direct = ip_hash("203.0.113.9"), ip_hash("10.0.0.1")
        db.session.remove()
        db.engine.dispose()
    assert seen == [forwarded if hops else direct]


def test_ip_hash_is_keyed_and_rotates_daily(app):
    with app.test_request_context():
        today = ip_hash("198.51.100.7", day="2026-11-23")
        assert today == ip_hash("198.51.100.7", day="2026-11-23")
        assert today != ip_hash("198.51.100.7", day="2026-11-24")
        assert "198.51.100.7" not in today and len(today) == 32
    app.secret_key = "another-secret"
    with app.test_request_context():
        assert ip_hash("198.51.100.7", day="2026-11-23") != today


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "/\\evil.com",
        "https:evil.com",
        "https://evil.com",
        "///evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        "http:/evil.com",
        " //evil.com",
        "%2F%2Fevil.com",
    ],
)
def test_login_next_never_leaves_the_site(client, make_account, target):
    account = make_account("facilitator")
    response = client.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/facilitate/"


def test_uploads_are_size_limited_and_type_checked(app, client, login):
    login(client, "facilitator")
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    big = client.post_form("/facilitate/import", {"file": (__import__("io").BytesIO(b"x" * 20_000), "big.zip")})
    assert big.status_code == 413
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    exe = client.post_form("/facilitate/import", {"file": (__import__("io").BytesIO(b"MZ\x90\x00"), "tool.exe")})
    assert exe.status_code == 400


# text("..." % x), text(f"..."), text("...".format()), execute(f"...") and friends: SQL must take bound parameters.
_FORMATTED_SQL = re.compile(
    r"""(?<!\w)(text|execute|exec_driver_sql|copy)\(\s*(f["']|["'][^"']*["']\s*(%|\.format\())"""
    r"""|(?<!\w)(text|execute|exec_driver_sql)\(\s*\w+\s*(%|\+)""",
)
# Reviewed exceptions, each with its reason.
_ALLOWED = {
    # DDL (which cannot be parameterised) built from constant column definitions written in the migration itself.
    (
        "participate/migrations/versions/20261123_6160161c662b_facilitators.py",
        "op.execute(f'ALTER TABLE consultation ADD COLUMN {ddl}')",
    ),
    # Table names from the migration's own constant tuple (_CHECKS), set aside while SQLite rebuilds a table.
    (
        "participate/migrations/versions/20261204_d7a3f1c2b9e4_deleted_votes_leave_the_results.py",
        'op.execute(f"CREATE TEMPORARY TABLE keep_{table} AS SELECT * FROM {table}")',
    ),
    (
        "participate/migrations/versions/20261204_d7a3f1c2b9e4_deleted_votes_leave_the_results.py",
        'op.execute(f"DELETE FROM {table}")',
    ),
    (
        "participate/migrations/versions/20261204_d7a3f1c2b9e4_deleted_votes_leave_the_results.py",
        'op.execute(f"INSERT INTO {table} SELECT * FROM keep_{table}")',
    ),
    (
        "participate/migrations/versions/20261204_d7a3f1c2b9e4_deleted_votes_leave_the_results.py",
        'op.execute(f"DROP TABLE keep_{table}")',
    ),
}


def test_sql_only_through_bound_parameters():
    offenders = []
    for path in sorted([*ROOT.glob("participate/**/*.py"), *ROOT.glob("analysis/**/*.py")]):
        relative = str(path.relative_to(ROOT))
        source = path.read_text()
        for match in _FORMATTED_SQL.finditer(source):
            line = source[source.rfind("\n", 0, match.start()) + 1 : source.find("\n", match.end())].strip()
            if (relative, line) not in _ALLOWED:
                offenders.append((relative, line))
        for match in re.finditer(r"\.copy\(\w+\.format\(.*\)\)", source):
            line = "cursor" + match.group(0)
            if (relative, line) not in _ALLOWED:
                offenders.append((relative, line))
    assert offenders == []


def test_embed_cookies_are_cross_site_only_when_configured_over_https(database_url, make_consultation):
    app = create_app({**app_config(database_url), "EMBED_COOKIES": True, "PREFERRED_URL_SCHEME": "https"})
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None" and app.config["SESSION_COOKIE_SECURE"]
    with app.app_context():
        make_consultation()
        cookie = app.test_client().get("/c/test", base_url="https://localhost").headers["Set-Cookie"]
        db.session.remove()
        db.engine.dispose()  # this second app's connections, before the test's database is dropped
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie and "HttpOnly" in cookie
    plain = create_app({**app_config(database_url), "EMBED_COOKIES": True})  # not HTTPS: stays Lax
    assert plain.config["SESSION_COOKIE_SAMESITE"] == "Lax"
