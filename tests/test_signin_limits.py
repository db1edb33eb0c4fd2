"""Limits count before work (issue 23, M2): sign-in attempts are counted atomically before any password is
verified, Argon2 runs at most ARGON2_CONCURRENCY at a time, one account's back-off locks out no other account behind
the same address, and with Redis the counters survive a restart."""

import threading
import time

import pytest
from argon2.exceptions import VerifyMismatchError

from participate import create_app
from participate.extensions import db
from participate.services import accounts
from tests.conftest import STAFF_PASSWORD, app_config


class CountingHasher:
    """Stands in for Argon2: counts verifications and how many ran at once; ``hold`` keeps each one running."""

    def __init__(self, real, hold: threading.Event | None = None):
        self.real, self.hold = real, hold
        self.lock = threading.Lock()
        self.calls = self.active = self.most = 0

    def __getattr__(self, name):  # its cost and the rest: the real hasher's
        return getattr(self.real, name)

    def verify(self, stored, password):
        with self.lock:
            self.calls += 1
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            if self.hold is not None:
                self.hold.wait(30)
            else:
                time.sleep(0.02)  # widens the window in which a check-then-count limit lets others through
            if stored == "real":
                return True
            raise VerifyMismatchError()
        finally:
            with self.lock:
                self.active -= 1

    def hash(self, password):
        return self.real.hash(password)

    def check_needs_rehash(self, stored):
        return False


@pytest.fixture
def make_app(database_url):
    """``make_app(**config)``: an app on this test's database (CSRF off: threads post directly); its connections are
    closed at the end."""
    made = []

    def make(**config):
        app = create_app({**app_config(database_url), "WTF_CSRF_ENABLED": False, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _simultaneously(app, forms: list[dict], address="203.0.113.9") -> list[int]:
    """POST every form to /login at once, each from its own thread and test client; the statuses in order."""
    statuses = [None] * len(forms)
    start = threading.Barrier(len(forms))

    def attempt(i):
        client = app.test_client()
        start.wait()
        statuses[i] = client.post("/login", data=forms[i], environ_base={"REMOTE_ADDR": address}).status_code

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.fixture
def hasher(monkeypatch):
    fake = CountingHasher(accounts.hasher)
    monkeypatch.setattr(accounts, "hasher", fake)
    return fake


def test_simultaneous_wrong_passwords_are_counted_before_any_is_verified(make_app, hasher, limiter_clock):
    app = make_app(LOGIN_RATE_LIMIT="5 per minute", ARGON2_CONCURRENCY=4)
    forms = [{"email": f"person{i}@example.org", "password": "wrong guess"} for i in range(40)]
    statuses = _simultaneously(app, forms)
    assert hasher.calls <= 5, f"{hasher.calls} passwords verified with a limit of 5"
    assert statuses.count(401) == hasher.calls and statuses.count(429) == 40 - hasher.calls


def test_simultaneous_guesses_at_one_account_verify_at_most_the_free_failures(make_app, hasher, limiter_clock):
    app = make_app(LOGIN_RATE_LIMIT="1000 per minute", ARGON2_CONCURRENCY=4)
    forms = [{"email": "owner@example.org", "password": f"guess {i}"} for i in range(30)]
    _simultaneously(app, forms)
    assert hasher.calls <= 5


def test_argon2_checks_never_exceed_the_bound_and_the_rest_get_a_503(make_app, monkeypatch):
    hold = threading.Event()
    fake = CountingHasher(accounts.hasher, hold)
    monkeypatch.setattr(accounts, "hasher", fake)
    app = make_app(LOGIN_RATE_LIMIT="1000 per minute", ARGON2_CONCURRENCY=2, ARGON2_WAIT_SECONDS=0)
    forms = [{"email": f"person{i}@example.org", "password": "wrong guess"} for i in range(12)]
    results = {}

    def release_when_the_rest_answered():
        while sum(1 for s in results.values() if s == 503) < 10 and not hold.is_set():
            time.sleep(0.01)
        hold.set()

    watcher = threading.Thread(target=release_when_the_rest_answered)
    watcher.start()
    statuses = [None] * len(forms)
    start = threading.Barrier(len(forms))

    def attempt(i):
        client = app.test_client()
        start.wait()
        response = client.post("/login", data=forms[i], environ_base={"REMOTE_ADDR": "203.0.113.9"})
        statuses[i] = results[i] = response.status_code
        if response.status_code == 503:
            assert "busy checking other sign-ins" in response.text and response.headers["Retry-After"]

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    hold.set()
    watcher.join()
    assert fake.most <= 2 and fake.calls == 2
    assert sorted(statuses) == [401, 401] + [503] * 10


def test_one_accounts_failures_lock_out_no_other_account_at_the_same_address(app, client, make_account, limiter_clock):
    first, second = make_account("facilitator"), make_account("admin")
    address = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(5):
        form = {"email": first.email, "password": "wrong guess"}
        assert client.post_form("/login", form, environ_base=address).status_code == 401
    form = {"email": second.email, "password": STAFF_PASSWORD}
    assert client.post_form("/login", form, environ_base=address).status_code == 302


def test_with_redis_the_sign_in_counters_survive_a_restart(make_app, redis_url):
    config = {"REDIS_URL": redis_url, "ANALYSIS_RUNNER": "sync", "LOGIN_RATE_LIMIT": "3 per hour"}
    form = {"email": "nobody@example.org", "password": "wrong guess"}
    before = make_app(**config)
    assert [before.test_client().post("/login", data=form).status_code for _ in range(3)] == [401] * 3
    after = make_app(**config)  # a restarted process builds the app afresh, as here
    assert after.test_client().post("/login", data=form).status_code == 429
