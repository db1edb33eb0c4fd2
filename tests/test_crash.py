"""Crash test: kill -9 the web server and the analysis worker under load; no acknowledged vote is lost.

Runs the production processes for real (``participate serve --production`` and ``participate worker``) on the
backend the suite runs on, with a private Redis, for about twenty seconds.
"""

import contextlib
import http.client
import http.cookiejar
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import AnalysisSnapshot, CurrentVote, Participant, Vote
from participate.services.participation.identity import token_hash

from .servers import free_port

SECRET = "crash-test-secret"
WORDS = {"agree": 1, "disagree": -1, "pass": 0}


class Person:
    """A browser: its own cookies, the CSRF token, and every vote the server acknowledged."""

    def __init__(self, base: str, slug: str, statement_ids: list[int], seed: int):
        self.base, self.slug, self.statement_ids = base, slug, statement_ids
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.rng = random.Random(seed)
        self.csrf = None
        self.acked: dict[int, int] = {}  # statement id → latest acknowledged value
        self.unanswered: dict[int, set[int]] = {}  # values sent after it without an answer: maybe stored, maybe not

    def _call(self, method: str, path: str, body=None):
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf or ""},
        )
        with self.opener.open(request, timeout=5) as response:
            return response.status, json.loads(response.read())

    def vote_once(self) -> None:
        statement_id = self.rng.choice(self.statement_ids)
        word = self.rng.choice(list(WORDS))
        try:
            if self.csrf is None:
                self.csrf = self._call("GET", "/api/v1/session")[1]["csrf_token"]
            status, _ = self._call(
                "POST", f"/api/v1/consultations/{self.slug}/votes", {"statement_id": statement_id, "vote": word}
            )
        except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError):
            # The server died or the answer was cut off: not acknowledged, so it may or may not be stored.
            self.unanswered.setdefault(statement_id, set()).add(WORDS[word])
            return
        if status == 201:
            self.acked[statement_id] = WORDS[word]
            self.unanswered.pop(statement_id, None)


def _cookie_processor(person: Person) -> http.cookiejar.CookieJar:
    return next(h for h in person.opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)).cookiejar


def _start(args: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "participate.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # kill -9 of the group takes gunicorn's workers and RQ's work horse too
    )


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill9(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (RQ's work horse runs in a process group of its own)."""
    for pid in [process.pid, *_descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(10)


def _wait_ready(base: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{base}/readyz not ready within {timeout} s")


def _load(people: list[Person], stop: threading.Event) -> list[threading.Thread]:
    def run(person: Person) -> None:
        while not stop.is_set():
            person.vote_once()

    threads = [threading.Thread(target=run, args=(p,), daemon=True) for p in people]
    for thread in threads:
        thread.start()
    return threads


def _stored(consultation_id: int, people: list[Person]) -> tuple[int, int, int]:
    """(acknowledged votes, of which missing from the history, of which with another current value).

    A vote sent after the acknowledged one but never answered (the server was killed) may legitimately be the
    current value.
    """
    db.session.rollback()
    missing = wrong = total = 0
    for person in people:
        if not person.acked:
            continue
        participant = db.session.scalar(
            select(Participant).where(
                Participant.consultation_id == consultation_id,
                Participant.token_hash == token_hash(person_token(person), consultation_id),
            )
        )
        for statement_id, value in person.acked.items():
            total += 1
            if participant is None:
                missing += 1
                continue
            history = db.session.scalar(
                select(func.count())
                .select_from(Vote)
                .where(Vote.participant_id == participant.id, Vote.statement_id == statement_id)
            )
            current = db.session.get(CurrentVote, (participant.id, statement_id))
            missing += history == 0
            wrong += current is None or current.value not in {value, *person.unanswered.get(statement_id, ())}
    return total, missing, wrong


def person_token(person: Person) -> str:
    from itsdangerous import URLSafeSerializer

    cookie = next(c for c in _cookie_processor(person) if c.name == "participant")
    return URLSafeSerializer(SECRET, salt="participant").loads(cookie.value)


@pytest.mark.slow
def test_kill_9_web_and_worker_under_load_loses_no_acknowledged_vote(
    database_url, redis_url, app, make_consultation, tmp_path
):
    consultation = make_consultation(statements=[f"Crash statement {i}" for i in range(20)])
    statement_ids = [s.id for s in consultation.statements]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET,
        "WEB_CONCURRENCY": "2",
        "PARTICIPATE_THREADS": "4",
        "PARTICIPATE_BIND": f"127.0.0.1:{port}",
        "PARTICIPATE_ACCESS_LOG": "false",
        "PARTICIPATE_LOG_JSON": "false",
        "PARTICIPATE_ANALYSIS_DEBOUNCE_SECONDS": "0.2",
        "PARTICIPATE_ANALYSIS_LEASE_SECONDS": "3",
    }
    log = open(tmp_path / "servers.log", "w")  # noqa: SIM115  (closed at the end)
    web, worker = _start(["serve", "--production"], env, log), _start(["worker"], env, log)
    try:
        _wait_ready(base)
        people = [Person(base, consultation.slug, statement_ids, seed) for seed in range(6)]
        stop = threading.Event()
        threads = _load(people, stop)
        # Until the load is going, however busy the machine (the bound only stops a test that would hang).
        deadline = time.monotonic() + 180
        while sum(len(p.acked) for p in people) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        _kill9(web)  # mid-load: some requests are cut off unanswered, which is allowed
        _kill9(worker)
        stop.set()
        for thread in threads:
            thread.join(10)
        total, missing, wrong = _stored(consultation.id, people)
        assert total >= 20, "the load did not get going before the kill"
        assert (missing, wrong) == (0, 0), f"{missing} acknowledged votes lost, {wrong} with a stale current value"

        web, worker = _start(["serve", "--production"], env, log), _start(["worker"], env, log)
        _wait_ready(base)
        stop.clear()
        threads = _load(people, stop)
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join(10)
        total_after, missing, wrong = _stored(consultation.id, people)
        assert total_after >= total and (missing, wrong) == (0, 0)

        # The queue recovers: a snapshot that includes the very last vote appears (lease expiry, sweeper, retry).
        last_vote = db.session.scalar(select(func.max(Vote.id)).where(Vote.consultation_id == consultation.id))
        deadline = time.monotonic() + 180  # lease expiry, the sweeper and a whole analysis, on a busy machine
        covered = None
        while time.monotonic() < deadline:
            db.session.rollback()
            covered = db.session.scalar(
                select(func.max(AnalysisSnapshot.last_vote_id)).where(
                    AnalysisSnapshot.consultation_id == consultation.id
                )
            )
            if covered is not None and covered >= last_vote:
                break
            time.sleep(0.2)
        if covered is None or covered < last_vote:
            tail = "".join((tmp_path / "servers.log").read_text().splitlines(True)[-60:])
            pytest.fail(f"no fresh snapshot: {covered} < {last_vote}; servers' log ends:\n{tail}")
    finally:
        _kill9(web)
        _kill9(worker)
        log.close()
