"""A facilitator may raise the report's evidence floors, never lower them; the report's method note shows them."""

from participate.extensions import db
from participate.services import report
from tests.views.conftest import FORM


def test_floors_are_a_setting_that_can_be_raised_not_lowered(owner_client, night):
    assert report.floors_of(night).to_dict() == {"voters": 20, "group_voters": 5}
    form = {**FORM, "floor_voters": "50", "floor_group_voters": "8"}
    assert owner_client.post_form("/facilitate/night-buses/settings", form).status_code == 302
    db.session.refresh(night)
    assert (night.floor_voters, night.floor_group_voters) == (50, 8)
    assert report.floors_of(night).to_dict() == {"voters": 50, "group_voters": 8}
    assert report.build(db.session, night)["floor"] == {"voters": 50, "group_voters": 8}
    page = owner_client.get("/facilitate/night-buses/settings").text
    assert 'name="floor_voters"' in page and 'value="50"' in page
    refused = owner_client.post_form("/facilitate/night-buses/settings", {**FORM, "floor_voters": "19"})
    assert refused.status_code == 400 and "whole number from 20" in refused.text
    db.session.refresh(night)
    assert night.floor_voters == 50, "nothing stored from a refused form"
    back = {**FORM, "floor_voters": "", "floor_group_voters": "5"}
    assert owner_client.post_form("/facilitate/night-buses/settings", back).status_code == 302
    db.session.refresh(night)
    assert report.floors_of(night).to_dict() == {"voters": 20, "group_voters": 5}
