"""Staff sign-in through the real routes: login, rate limit, logout, password change, invitations, next=."""

import pytest
from sqlalchemy import select

from participate.extensions import db
from participate.models import Account, Invitation
from tests.conftest import STAFF_PASSWORD


def test_login_redirects_to_dashboard_and_shows_staff_nav(client, login):
    login(client, "facilitator")
    page = client.get("/facilitate/")
    assert page.status_code == 200
    assert "Your consultations" in page.text and "Sign out" in page.text


@pytest.mark.parametrize(
    ("email", "password"),
    [("facilitator@example.org", "wrong password here"), ("nobody@example.org", STAFF_PASSWORD), ("", "")],
)
def test_failed_login_never_reveals_whether_the_email_exists(client, make_account, email, password):
    make_account("facilitator")
    response = client.post_form("/login", {"email": email, "password": password})
    assert response.status_code == 401
    assert "The email address or password is not right." in response.text
    assert client.get("/facilitate/").status_code == 302


def test_deactivated_account_cannot_sign_in(client, make_account):
    account = make_account("facilitator")
    account.is_active = False
    db.session.commit()
    response = client.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD})
    assert response.status_code == 401


def test_failed_logins_are_rate_limited_then_even_the_right_password_waits(client, make_account, limiter_clock):
    account = make_account("facilitator")
    for _ in range(5):
        assert client.post_form("/login", {"email": account.email, "password": "nope nope nope"}).status_code == 401
    blocked = client.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text


def test_successful_logins_do_not_count_towards_the_limit(client, make_account):
    account = make_account("facilitator")
    for _ in range(8):
        assert client.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/facilitate/new", "/facilitate/new"),
        ("https://evil.example/", "/facilitate/"),
        ("//evil.example/", "/facilitate/"),
        ("/\\evil.example", "/facilitate/"),
        ("/\t/evil.example", "/facilitate/"),
        ("javascript:alert(1)", "/facilitate/"),
    ],
)
def test_next_redirects_only_to_local_paths(client, make_account, next_url, expected):
    account = make_account("facilitator")
    response = client.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD, "next": next_url})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_anonymous_is_sent_to_login_with_next_and_comes_back(client, make_account):
    response = client.get("/facilitate/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    account = make_account("facilitator")
    back = client.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD, "next": "/facilitate/new"})
    assert back.headers["Location"] == "/facilitate/new"


def test_login_starts_a_fresh_session(client, make_account):
    account = make_account("facilitator")
    with client.http.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post_form("/login", {"email": account.email, "password": STAFF_PASSWORD})
    with client.http.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{account.id}:1"


def test_logout_needs_csrf_and_ends_the_session(client, login):
    login(client)
    assert client.post("/logout").status_code == 400
    assert client.post_form("/logout", {}).status_code == 302
    assert client.get("/facilitate/").status_code == 302


def test_password_change_signs_out_other_sessions_but_not_this_one(app, client, other_client, login):
    account = login(client)
    login(other_client, account=account)
    response = client.post_form(
        "/account/password",
        {"current": STAFF_PASSWORD, "new": "a brand new passphrase", "confirm": "a brand new passphrase"},
    )
    assert response.status_code == 302
    assert client.get("/facilitate/").status_code == 200
    assert other_client.get("/facilitate/").status_code == 302
    fresh = other_client.post_form("/login", {"email": account.email, "password": "a brand new passphrase"})
    assert fresh.status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"current": "wrong", "new": "a brand new passphrase", "confirm": "a brand new passphrase"}, "not right"),
        ({"current": STAFF_PASSWORD, "new": "short", "confirm": "short"}, "at least 12"),
        ({"current": STAFF_PASSWORD, "new": "a brand new passphrase", "confirm": "different one!!"}, "not the same"),
    ],
)
def test_password_change_refusals(client, login, form, message):
    login(client)
    response = client.post_form("/account/password", form)
    assert response.status_code == 400
    assert message in response.text


def test_admin_invites_with_a_one_time_link(client, other_client, login):
    login(client, "admin")
    page = client.post_form("/admin/accounts/invite", {"email": "New.Mod@Example.org", "role": "moderator"})
    assert page.status_code == 200
    link = page.text.split('id="invite-link" class="wide" value="')[1].split('"')[0]
    path = link.removeprefix("http://localhost")
    assert db.session.scalar(select(Invitation)).token_hash not in link  # only the hash is stored
    assert other_client.get(path).status_code == 200
    created = other_client.post_form(path, {"password": "moderator passphrase", "confirm": "moderator passphrase"})
    assert created.status_code == 302
    account = db.session.scalar(select(Account).where(Account.email == "new.mod@example.org"))
    assert account.role.value == "moderator"
    assert other_client.get("/facilitate/").status_code == 200
    assert other_client.get(path).status_code == 404  # used once


def test_only_admins_manage_accounts(client, login):
    login(client, "facilitator")
    assert client.get("/admin/accounts").status_code == 403
    assert client.post_form("/admin/accounts/invite", {"email": "x@example.org", "role": "admin"}).status_code == 403


def test_admin_deactivates_an_account_and_its_sessions_end(client, other_client, login, make_account):
    login(client, "admin")
    victim = login(other_client, "facilitator")
    assert client.post_form(f"/admin/accounts/{victim.id}", {"active": "0"}).status_code == 302
    assert other_client.get("/facilitate/").status_code == 302
    assert client.post_form(f"/admin/accounts/{victim.id}", {"role": "moderator"}).status_code == 302
    db.session.refresh(victim)
    assert victim.role.value == "moderator" and not victim.is_active
