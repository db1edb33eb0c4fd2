"""No page shows the word "None" where a value is absent: not in a form field, not as text.

A form field pre-filled with "None" is submitted back as "None" (or, with a pattern, blocks the form), so every GET
route of the authorisation matrix is rendered for every role and searched.
"""

import re

import pytest
from flask import render_template_string

from tests.conftest import Client
from tests.views.routes import PUBLIC_ROUTES, STAFF_ROUTES

NONE_SHOWN = re.compile(r'value="None"|>\s*None\s*</(textarea|dd|td|p|span|li|option)>')


def test_an_absent_value_renders_as_nothing(app):
    with app.test_request_context():
        html = render_template_string('<input value="{{ x }}"><textarea>{{ y }}</textarea>', x=None, y=None)
    assert html == '<input value=""><textarea></textarea>'


def test_the_new_consultation_form_starts_empty(client, login):
    login(client, "facilitator")
    html = client.get("/facilitate/new").text
    for field in ("title", "question", "slug"):
        assert re.search(rf'id="{field}"[^>]*value=""', html), field
    assert re.search(r'id="description"[^>]*></textarea>', html)
    assert re.search(r'id="recruitment"[^>]*></textarea>', html)


def test_a_refused_new_consultation_keeps_what_was_typed_and_nothing_else(client, login):
    login(client, "facilitator")
    response = client.post_form("/facilitate/new", {"title": "", "question": "Kept?"})
    assert response.status_code == 400
    assert 'value="Kept?"' in response.text
    assert not NONE_SHOWN.search(response.text)


@pytest.mark.parametrize("role", ["anonymous participant", "moderator", "facilitator", "admin"])
def test_no_get_page_shows_none(app, world, login, role):
    client = Client(app)
    client.get("/c/pub")
    if role == "admin":
        login(client, "admin")
    elif role in world["accounts"]:
        login(client, account=world["accounts"][role])
    paths = [path for method, path, *_ in STAFF_ROUTES + PUBLIC_ROUTES if method == "GET"]
    shown = []
    for template in paths:
        response = client.get(template.format(**world["ids"], n=role))
        if response.mimetype == "text/html" and NONE_SHOWN.search(response.text):
            shown.append(f"{template}: {NONE_SHOWN.search(response.text).group(0)}")
        response.close()
    assert shown == []
