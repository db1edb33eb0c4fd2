"""Fixtures the view tests share: a signed-in facilitator with a consultation made through the pages, and the
consultations and accounts the route tables of ``routes.py`` are played against."""

import pytest
from sqlalchemy import select

from participate.extensions import db
from participate.models import Consultation
from tests.views import routes

#: The settings form of the consultation ``night`` creates through the pages.
FORM = {
    "title": "Night buses",
    "question": "Should buses run all night?",
    "slug": "night-buses",
    "allow_statements": "1",
}


@pytest.fixture
def owner_client(client, login):
    """A client signed in as a facilitator."""
    login(client, "facilitator")
    return client


@pytest.fixture
def night(owner_client):
    """ "Night buses", a draft created by ``owner_client`` through the new-consultation form."""
    response = owner_client.post_form("/facilitate/new", FORM)
    assert response.status_code == 302 and response.headers["Location"] == "/facilitate/night-buses"
    return db.session.scalar(select(Consultation).where(Consultation.slug == "night-buses"))


@pytest.fixture
def world(app, make_account, make_consultation):
    """The consultations and accounts of :func:`routes.make_world`."""
    return routes.make_world(make_account, make_consultation)
