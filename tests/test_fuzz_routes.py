"""Property-based fuzzing of every route in ``app.url_map``: each method, as an anonymous visitor and as an admin,
with malformed ids, path segments, query strings and bodies (forms, JSON nested or deep, raw bytes, uploads).
Whatever arrives, the answer is never a 5xx."""

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter

from participate import create_app
from participate.extensions import db
from participate.models import Consultation, ConsultationStatus
from participate.services import statements as statement_service
from tests.conftest import STAFF_PASSWORD, Client, app_config

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# Every field name a template sends, plus query parameters only links carry: the fuzzer aims at what views read.
FIELDS = sorted(
    {m for path in TEMPLATES.rglob("*.html") for m in re.findall(r'name="([a-z_]+)"', path.read_text())}
    | {"c", "code", "key", "lang", "page", "sig", "sort", "state", "theme", "xid", "themes-1"}
)
SKIP_METHODS = {"HEAD", "OPTIONS"}

_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "0", "-1", "1", "2", "test", "agree", "admin", "é", "\x00", "\x00x", "10" * 12, "1e400"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS) | _text, inner, max_size=4),
    max_leaves=10,
)
_deep = st.integers(min_value=1, max_value=100_000).map(lambda n: "[" * n + "]" * n)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


_upload = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda settings: _zip({"comments.csv": b"comment-id,comment-body\n1,x\n", "consultation.json": settings}),
        st.builds(
            lambda d: json.dumps({"format": "participate-consultation/1", **d}).encode(),
            st.dictionaries(
                st.sampled_from(
                    [
                        "title",
                        "slug",
                        "statements",
                        "moderation",
                        "report_visibility",
                        "description",
                        "banned_participant_ids",
                        "allow_statements",
                        "opened_at",
                    ]
                ),
                _json,
                max_size=4,
            ),
        ),
    ),
)
_bodies = st.one_of(
    st.none(),
    st.builds(lambda d: ("form", d), st.dictionaries(st.sampled_from(FIELDS), st.lists(_text, max_size=3), max_size=6)),
    st.builds(lambda d: ("json", json.dumps(d, allow_nan=True)), _json),
    st.builds(lambda s: ("json", s), _deep),
    st.builds(lambda b: ("raw", b), st.binary(max_size=100)),
    st.builds(
        lambda field, data, name: ("files", {field: (io.BytesIO(data), name)}),
        st.sampled_from(["export", "xid_file"]),
        _upload,
        st.sampled_from(["export.zip", "comments.csv", "x.zip", "../../etc/passwd"]),
    ),
)


def _routes(app) -> list[tuple[str, str]]:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    return sorted((rule.rule, method) for rule in rules for method in rule.methods - SKIP_METHODS)


def _path_value(converter, data) -> str:
    """A value for one path argument: valid-looking or hostile, ids far beyond any column's range included."""
    if isinstance(converter, IntegerConverter):
        return str(data.draw(st.one_of(st.integers(0, 5), st.integers(2**63 - 2, 2**80), st.just(10**23))))
    if isinstance(converter, AnyConverter):
        return data.draw(st.sampled_from(sorted(converter.items)))
    return quote(data.draw(st.one_of(st.just("test"), _text.filter(bool))), safe="")


@pytest.fixture
def fuzz_app(database_url):
    app = create_app({**app_config(database_url), "RATELIMIT_ENABLED": False})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def browsers(fuzz_app, make_account):
    account = make_account("admin")
    consultation = Consultation(slug="test", title="T", question="Q?", status=ConsultationStatus.OPEN)
    db.session.add(consultation)
    db.session.flush()
    db.session.add_all(statement_service.seed(consultation.id, text) for text in ("One", "Two", "Three"))
    db.session.commit()
    staff = Client(fuzz_app)
    staff.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD})
    return {"anonymous": Client(fuzz_app), "staff": staff, "account": account}


def _request(fuzz_app, browsers, data, rule, method):
    path = rule.rule
    for name, converter in rule._converters.items():
        path = re.sub(rf"<[^>]*\b{name}>", _path_value(converter, data), path, count=1)
    query = data.draw(st.dictionaries(st.sampled_from(FIELDS), _text, max_size=3), label="query")
    who = data.draw(st.sampled_from(["anonymous", "staff"]), label="who")
    client = browsers[who]
    body = data.draw(_bodies, label="body") if method != "GET" else None
    token = client.csrf_token()
    kwargs = {"query_string": query, "headers": {"X-CSRFToken": token}}
    if body is not None:
        kind, payload = body
        if kind in ("form", "files"):
            kwargs["data"] = {**payload, "csrf_token": token}
            kwargs["content_type"] = "multipart/form-data" if kind == "files" else None
        else:
            kwargs["data"] = payload
            kwargs["content_type"] = "application/json" if kind == "json" else "application/octet-stream"
    response = client.open(path, method=method, **{k: v for k, v in kwargs.items() if v is not None})
    response.close()
    assert response.status_code < 500, (method, path, query, body, who, response.text[:300])
    if who == "staff" and rule.endpoint in ("auth.logout", "auth.login"):
        client.post_form("/login", {"email": browsers["account"].email, "password": STAFF_PASSWORD})


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_route_answers_malformed_input_with_a_server_error(fuzz_app, browsers, data):
    """Each example sends one request to every route and method, so every route is fuzzed equally."""
    rules = {r.rule: r for r in fuzz_app.url_map.iter_rules()}
    for rule_text, method in _routes(fuzz_app):
        _request(fuzz_app, browsers, data, rules[rule_text], method)


@pytest.fixture
def large_browsers(fuzz_app, make_account, monkeypatch):
    """A consultation of 1,200 statements with simulated voters, analysed and published, whose votes and people
    carry odd dates (the year 1, the epoch, 9999-12-31): what broke the monitor in the outside probe (issue 23)."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from participate.models import Participant, ReportVisibility, Statement, Vote
    from participate.services import publishing, simulate
    from participate.services.snapshots import runner
    from participate.views import report as report_views

    # The PDF of 1,200 statements takes minutes to lay out; its content is fuzzed on the small consultation above.
    # Only the layout is stood in for: the pdf job, its cache key and the shared cache still run on this consultation.
    monkeypatch.setattr(report_views, "render_pdf", lambda context, **kwargs: b"%PDF-1.7 stand-in")
    account = make_account("admin")
    consultation = Consultation(
        slug="test", title="T", question="Q?", status=ConsultationStatus.OPEN, report_visibility=ReportVisibility.LINK
    )
    db.session.add(consultation)
    db.session.flush()
    db.session.add_all(statement_service.seed(consultation.id, f"Statement {i}") for i in range(1200))
    db.session.commit()
    simulate.simulate_votes(db.session, consultation, 12, groups=2, seed=1)
    votes = db.session.scalars(select(Vote.id).order_by(Vote.id)).all()
    for vote_id, moment in zip(
        votes[:3],
        (datetime(1, 1, 1, 12, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC)),
        strict=True,
    ):
        db.session.execute(update(Vote).where(Vote.id == vote_id).values(created_at=moment))
    db.session.execute(
        update(Participant)
        .where(Participant.id == select(Vote.participant_id).where(Vote.id == votes[0]).scalar_subquery())
        .values(created_at=datetime(9999, 12, 31, tzinfo=UTC))
    )
    db.session.execute(update(Statement).values(created_at=datetime(9999, 12, 30, tzinfo=UTC)))
    db.session.commit()
    runner.analyse(db.session, consultation.id)
    publishing.publish(db.session, consultation, account=account)
    staff = Client(fuzz_app)
    staff.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD})
    return {"anonymous": Client(fuzz_app), "staff": staff, "account": account}


@pytest.mark.slow  # every route three times over a consultation of 1,200 statements (the sweep below stays fast)
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_route_answers_with_a_server_error_on_a_large_oddly_dated_consultation(fuzz_app, large_browsers, data):
    rules = {r.rule: r for r in fuzz_app.url_map.iter_rules()}
    for rule_text, method in _routes(fuzz_app):
        _request(fuzz_app, large_browsers, data, rules[rule_text], method)


def test_every_page_of_a_large_oddly_dated_consultation_answers(fuzz_app, large_browsers):
    """The sweep before the fuzzing: every GET route, its arguments pointing at the large consultation, both ways."""
    for rule in fuzz_app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        path = rule.rule
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                value = "1"
            elif isinstance(converter, AnyConverter):
                value = sorted(converter.items)[0]
            else:
                value = "test"
            path = re.sub(rf"<[^>]*\b{name}>", value, path, count=1)
        for who in ("anonymous", "staff"):
            response = large_browsers[who].get(path)
            response.close()
            assert response.status_code < 500, (path, who, response.text[:300])
