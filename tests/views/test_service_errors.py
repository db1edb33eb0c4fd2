"""One app-level handler turns a service's refusal into the error page or the JSON answer."""

import ast
from pathlib import Path

import pytest

from participate import create_app
from participate.extensions import db
from participate.services import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import app_config

VIEWS = Path(__file__).resolve().parents[2] / "participate" / "views"


@pytest.fixture
def refusing(database_url):
    """An app with two extra routes that raise the error named in the URL, as a service would."""
    app = create_app(app_config(database_url))
    errors = {"invalid": InvalidInput, "not-found": NotFound, "conflict": Conflict, "forbidden": Forbidden}

    def refuse(kind):
        raise errors[kind]("Refused because %(why)s.", why="the rule says so")

    app.add_url_rule("/refuse/<kind>", "refuse_page", refuse)
    app.add_url_rule("/api/v1/refuse/<kind>", "refuse_json", refuse)
    with app.app_context():
        yield app.test_client()
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid", 400, "invalid"),
        ("not-found", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("forbidden", 403, "forbidden"),
    ],
)
def test_a_refusal_is_a_page_for_people_and_json_for_the_api(refusing, kind, status, code):
    page = refusing.get(f"/refuse/{kind}")
    assert page.status_code == status and page.mimetype == "text/html"
    assert "Refused because the rule says so." in page.text and "Traceback" not in page.text
    answer = refusing.get(f"/api/v1/refuse/{kind}")
    assert answer.status_code == status
    assert answer.get_json() == {"error": {"code": code, "message": "Refused because the rule says so."}}


def test_a_refusal_in_welsh(refusing):
    page = refusing.get("/refuse/not-found?lang=cy")
    assert page.status_code == 404 and 'lang="cy"' in page.text


def _translations_to_an_error_page(source: str) -> list[int]:
    """Lines where an ``except ServiceError`` only turns the error into an error page (the handler's job)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ExceptHandler) and getattr(node.type, "id", None) == "ServiceError":
            call = node.body[0].value if len(node.body) == 1 and isinstance(node.body[0], ast.Expr) else None
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "abort":
                found.append(node.lineno)
    return found


def test_the_finder_finds_a_view_that_turns_the_error_into_a_page_itself():
    source = "try:\n    f()\nexcept ServiceError as error:\n    abort(error.status, description=error.translated())\n"
    assert _translations_to_an_error_page(source) == [3]
    kept = "try:\n    f()\nexcept ServiceError as error:\n    return render_template('form.html', error=error)\n"
    assert _translations_to_an_error_page(kept) == []


def test_views_leave_plain_refusals_to_the_handler():
    offenders = {
        path.name: lines for path in VIEWS.glob("*.py") if (lines := _translations_to_an_error_page(path.read_text()))
    }
    assert offenders == {}, "views that catch a ServiceError only to abort: let the app-level handler do it"
