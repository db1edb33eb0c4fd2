"""Load benchmark: real servers on loopback, simulated participants, then a vote-by-vote audit of the database.

    .venv/bin/python bench/load.py --backend postgresql --duration 30 --participants 200
    .venv/bin/python bench/load.py --backend sqlite --duration 30 --participants 200
    .venv/bin/python bench/load.py --backend postgresql --rate 200 --duration 15     # open loop: 200 votes/s
    .venv/bin/python bench/load.py --backend postgresql --find-max --duration 8      # the highest rate that holds

``postgresql`` starts a private PostgreSQL cluster (durable defaults: fsync and synchronous commit on) and Redis,
``participate serve --production`` (gunicorn) and ``participate worker`` processes; ``sqlite`` starts gunicorn on a
SQLite file with the in-process analysis runner. The consultation is first seeded with ``--seed-participants``
simulated voters (so the analysis works on a consultation of that size) and analysed and checked, then
``--participants`` concurrent simulated people each get a session, fetch the next statement, vote (the answer
carries the next statement, as in Pol.is), sometimes change an earlier vote and sometimes submit a statement, until
they run out of statements (a new person then takes their place) or the time is up.

Afterwards every acknowledged vote is checked against the database: its history row exists once, the current vote
holds the latest acknowledged value, and nothing else was stored. The analysis lag is the time from the last
acknowledged vote until a snapshot includes it (``analysis_snapshot.last_vote_id >= max(vote.id)``).
The last line is machine-readable: ``RESULT rate=<votes/s> p99_ms=<x> lost=<n> web_cpu_ms_per_vote=<x>``, where
``web_cpu_ms_per_vote`` is the CPU time of the gunicorn processes during the load divided by the votes acknowledged
(it does not depend on how busy the machine is, unlike the rate).

By default each person votes as soon as the server answers (a closed loop), which measures capacity: the server
is always saturated, so by Little's law the mean latency is the number of people divided by the throughput.
``--think`` gives each person a reading pause before each vote. ``--rate R`` is an open loop instead: votes arrive
at R per second in a Poisson process, each from a participant who is not waiting for an answer (a pool of them,
given their session and first statement before the clock starts), whatever the server's state; latency is counted
from the moment a vote was due, so a server that falls behind shows it. ``--find-max`` runs the open loop at rising
rates (doubling, then halving the interval) and reports the highest that held: p99 under 100 ms, no error, nothing
lost.
"""

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402  (after the path set-up, like the imports below)
from itsdangerous import URLSafeSerializer  # noqa: E402

from tests.servers import PostgresCluster, RedisServer, free_port  # noqa: E402

SECRET = "load-benchmark-secret-key"
SLUG = "load-benchmark"
WORDS = ("agree", "disagree", "pass")
VALUE = {"agree": 1, "disagree": -1, "pass": 0}


# ----------------------------------------------------------------------------------------------------------------
# Set-up: database, servers
# ----------------------------------------------------------------------------------------------------------------
def prepare_database(url: str, statements: int, seed_participants: int) -> int:
    """Migrate, create an open consultation with ``statements`` seed statements and simulated voters; its id."""
    from flask_migrate import upgrade

    from participate import create_app
    from participate.extensions import db
    from participate.models import (
        Consultation,
        ConsultationStatus,
        ModerationMode,
    )
    from participate.services import simulate
    from participate.services import statements as statement_service
    from participate.services.snapshots import runner

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "ANALYSIS_RUNNER": "sync"})
    with app.app_context():
        upgrade()
        consultation = Consultation(
            slug=SLUG,
            title="Load benchmark",
            question="Does Participate keep every vote under load?",
            status=ConsultationStatus.OPEN,
            moderation=ModerationMode.POST,
            allow_statements=True,
        )
        db.session.add(consultation)
        db.session.flush()
        db.session.add_all(
            statement_service.seed(consultation.id, f"Benchmark statement number {i + 1}") for i in range(statements)
        )
        db.session.commit()
        if seed_participants:
            simulate.simulate_votes(db.session, consultation, seed_participants, seed=1)
            # Analysed and checked, as a consultation that has been running: the load then measures the steady
            # state (snapshots as votes arrive, the next check a minute later), not a fresh database's first check
            # and the report PDF built after it, which would fall inside the measured window.
            runner.analyse(db.session, consultation.id)
        consultation_id = consultation.id
        db.session.remove()
        db.engine.dispose()
    return consultation_id


def _wait_ready(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base}/readyz did not answer 200 within {timeout:.0f} s")


def _cpu_seconds(root: int | None) -> float:
    """CPU time of a process and its live descendants (gunicorn and its workers, PostgreSQL and its backends), with
    what their finished children used, from /proc."""
    if root is None:
        return 0.0
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            stats[int(entry)] = stat[stat.rindex(")") + 2 :].split()
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(child for child, fields in stats.items() if int(fields[1]) == pid and child not in tree)
    ticks = sum(sum(int(v) for v in stats[pid][11:15]) for pid in tree if pid in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Servers:
    backend: str
    base: str
    consultation_id: int
    database_url: str
    log: Path
    processes: list = field(default_factory=list)
    cleanups: list = field(default_factory=list)
    postgres_pid: int | None = None
    redis_pid: int | None = None

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for cleanup in reversed(self.cleanups):
            cleanup()


def start_servers(args) -> Servers:
    tmp = Path(tempfile.mkdtemp(prefix="participate-load-"))
    env = {
        **os.environ,
        "SECRET_KEY": SECRET,
        "WEB_CONCURRENCY": str(args.web_workers),
        "PARTICIPATE_THREADS": str(args.threads),
        "PARTICIPATE_ACCESS_LOG": "false",
        "PARTICIPATE_LOG_LEVEL": "WARNING",
        "PARTICIPATE_DB_POOL_SIZE": str(args.threads),
        "PYTHONUNBUFFERED": "1",
        # Every simulated person comes from 127.0.0.1 and votes as fast as the server answers: lift the per-address
        # and per-participant rate limits, as an event behind one address would.
        "PARTICIPATE_NEW_PARTICIPANT_RATE_LIMIT": "1000000 per minute",
        "PARTICIPATE_VOTE_RATE_LIMIT": "1000000 per minute",
        "PARTICIPATE_STATEMENT_RATE_LIMIT": "1000000 per minute",
    }
    env.pop("REDIS_URL", None)
    cleanups = [lambda: shutil.rmtree(tmp, ignore_errors=True)]
    if args.backend == "postgresql":
        cluster = PostgresCluster(durable=True, max_connections=300).start()
        cleanups.append(cluster.stop)
        with cluster.admin() as admin:
            admin.execute("CREATE DATABASE participate")
        database_url = cluster.url("participate")
        redis = RedisServer().start()
        cleanups.append(redis.stop)
        env["REDIS_URL"] = redis.url
        postgres_pid, redis_pid = int((cluster.data / "postmaster.pid").read_text().split()[0]), redis.process.pid
    else:
        postgres_pid = redis_pid = None
        database_url = f"sqlite:///{tmp / 'participate.sqlite'}"
        env["PARTICIPATE_ANALYSIS_RUNNER"] = "thread"
    env["DATABASE_URL"] = database_url
    print(f"preparing the {args.backend} database ({args.statements} statements, "
          f"{args.seed_participants} simulated participants)…", flush=True)  # fmt: skip
    consultation_id = prepare_database(database_url, args.statements, args.seed_participants)
    port = free_port()
    log = open(tmp / "server.log", "w")  # noqa: SIM115  (closed by the cleanup)
    cleanups.append(log.close)
    servers = Servers(
        args.backend,
        f"http://127.0.0.1:{port}",
        consultation_id,
        database_url,
        tmp / "server.log",
        cleanups=cleanups,
        postgres_pid=postgres_pid,
        redis_pid=redis_pid,
    )
    web = subprocess.Popen(
        [sys.executable, "-m", "participate.cli", "serve", "--production", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    servers.processes.append(web)
    if args.backend == "postgresql":
        for _ in range(args.analysis_workers):
            servers.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "participate.cli", "worker"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    try:
        _wait_ready(servers.base, web)
    except Exception:
        print("--- end of the server log ---\n" + "".join(servers.log.read_text().splitlines(True)[-30:]))
        servers.stop()
        raise
    return servers


# ----------------------------------------------------------------------------------------------------------------
# The simulated participants
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class Tally:
    acked: dict = field(default_factory=lambda: defaultdict(list))  # (token, statement) → acknowledged values
    unacked: dict = field(default_factory=lambda: defaultdict(list))  # attempts without an answer or with a 5xx
    latencies: list = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    requests: int = 0
    people: int = 0
    revotes: int = 0
    statements_added: int = 0
    last_ack: float = 0.0


def _token(jar: aiohttp.CookieJar) -> str:
    serializer = URLSafeSerializer(SECRET, salt="participant")
    for cookie in jar:
        if cookie.key == "participant":
            return serializer.loads(cookie.value)
    raise RuntimeError("the server set no participant cookie")


async def _vote(http, tally: Tally, token: str, headers: dict, statement_id: int, word: str) -> dict | None:
    """Send one vote; the answer (which carries the next statement) if it was acknowledged, else None."""
    started = time.perf_counter()
    key = (token, statement_id)
    try:
        async with http.post(
            f"/api/v1/consultations/{SLUG}/votes", json={"statement_id": statement_id, "vote": word}, headers=headers
        ) as response:
            body = await response.read()
            status = response.status
    except (TimeoutError, aiohttp.ClientError) as error:
        tally.errors[f"vote {type(error).__name__}"] += 1
        tally.unacked[key].append(VALUE[word])
        return None
    finally:
        tally.requests += 1
    if status == 201:
        tally.latencies.append(time.perf_counter() - started)
        tally.acked[key].append(VALUE[word])
        tally.last_ack = time.monotonic()
        return json.loads(body)
    tally.errors[f"vote {status}"] += 1
    if status >= 500:
        tally.unacked[key].append(VALUE[word])
    return None


async def _next(http, tally: Tally) -> dict | None:
    """The next statement by its own request (a new participant's first, or after a refused vote); None on error."""
    try:
        async with http.get(f"/api/v1/consultations/{SLUG}/next") as response:
            tally.requests += 1
            if response.status != 200:
                tally.errors[f"next {response.status}"] += 1
                await asyncio.sleep(0.1)
                return None
            return await response.json()
    except (TimeoutError, aiohttp.ClientError) as error:
        tally.errors[f"next {type(error).__name__}"] += 1
        return None


@dataclass(frozen=True)
class Behaviour:
    revote: float  # chance to change an earlier vote after voting
    submit: float  # chance to submit a statement after voting
    think: float  # mean seconds of reading before each vote (0: answer at once)


async def person(base, connector, deadline, tally: Tally, rng: random.Random, behaviour: Behaviour) -> None:
    """One simulated participant, from getting a session to running out of statements (or of time).

    Like the browser's script, they take their next statement from the answer to their vote.
    """
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        base, connector=connector, connector_owner=False, cookie_jar=jar, timeout=timeout
    ) as http:
        try:
            async with http.get("/api/v1/session") as response:
                csrf = (await response.json())["csrf_token"]
        except (TimeoutError, aiohttp.ClientError, KeyError) as error:
            tally.errors[f"session {type(error).__name__}"] += 1
            return
        tally.requests += 1
        token = _token(jar)
        headers = {"X-CSRFToken": csrf}
        voted: list[int] = []
        shown = None
        while time.monotonic() < deadline:
            if shown is None:
                shown = await _next(http, tally)
                if shown is None:
                    continue
            if shown["statement"] is None:
                return
            if behaviour.think:
                await asyncio.sleep(min(rng.expovariate(1 / behaviour.think), max(deadline - time.monotonic(), 0)))
                if time.monotonic() >= deadline:
                    return
            answer = await _vote(http, tally, token, headers, shown["statement"]["id"], rng.choice(WORDS))
            if answer is not None:
                voted.append(shown["statement"]["id"])
            shown = answer and answer["next"]
            if voted and rng.random() < behaviour.revote and time.monotonic() < deadline:
                answer = await _vote(http, tally, token, headers, rng.choice(voted), rng.choice(WORDS))
                if answer is not None:
                    tally.revotes += 1
                    shown = answer["next"]
            if rng.random() < behaviour.submit and time.monotonic() < deadline:
                text = f"Participant {token[:10]} suggests idea {len(voted)}"
                async with http.post(
                    f"/api/v1/consultations/{SLUG}/statements", json={"text": text}, headers=headers
                ) as response:
                    tally.requests += 1
                    if response.status == 201:
                        tally.statements_added += 1
                        # Like Pol.is, the author's agree vote on their own statement is recorded with it.
                        tally.acked[(token, (await response.json())["id"])].append(VALUE["agree"])
                        shown = None  # their own statement may change what comes next
                    else:
                        tally.errors[f"statement {response.status}"] += 1


async def drive(base: str, participants: int, duration: float, seed: int, behaviour: Behaviour) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + duration
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    rng = random.Random(seed)

    async def seat(n: int) -> None:
        person_rng = random.Random(rng.random())
        while time.monotonic() < deadline:
            tally.people += 1
            await person(base, connector, deadline, tally, person_rng, behaviour)

    await asyncio.gather(*(seat(n) for n in range(participants)))
    await connector.close()
    return tally


@dataclass
class Seated:
    """A participant of the open loop: their session, and the statement they are shown."""

    http: aiohttp.ClientSession
    token: str
    headers: dict
    shown: dict


async def _seat(base, connector, tally: Tally) -> Seated | None:
    """A new participant with a session and their first statement (before the clock starts)."""
    jar = aiohttp.CookieJar(unsafe=True)
    http = aiohttp.ClientSession(
        base, connector=connector, connector_owner=False, cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=30)
    )
    try:
        async with http.get("/api/v1/session") as response:
            csrf = (await response.json())["csrf_token"]
        shown = await _next(http, tally)
    except (TimeoutError, aiohttp.ClientError, KeyError) as error:
        tally.errors[f"session {type(error).__name__}"] += 1
        await http.close()
        return None
    if not shown or shown["statement"] is None:
        await http.close()
        return None
    return Seated(http, _token(jar), {"X-CSRFToken": csrf}, shown["statement"])


async def open_loop(
    base: str, rate: float, duration: float, statements: int, seed: int, on_start=lambda: None
) -> tuple[Tally, float]:
    """Votes at ``rate`` per second (Poisson arrivals) for ``duration`` seconds; (tally, seconds of the window).
    ``on_start()`` is called when the clock starts, after the participants were given their sessions."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    # enough people for every vote of the window, and for a second of votes waiting on their answers at once
    needed = math.ceil(rate * duration / max(statements - 1, 1) * 1.3) + math.ceil(rate) + 20
    semaphore = asyncio.Semaphore(32)

    async def seat() -> Seated | None:
        async with semaphore:
            return await _seat(base, connector, tally)

    pool = [p for p in await asyncio.gather(*(seat() for _ in range(needed))) if p is not None]
    tally.requests = 0
    idle = deque(pool)
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    in_flight: set = set()

    async def one_vote(person: Seated, due: float) -> None:
        key = (person.token, person.shown["id"])
        word = rng.choice(WORDS)
        try:
            async with person.http.post(
                f"/api/v1/consultations/{SLUG}/votes",
                json={"statement_id": person.shown["id"], "vote": word},
                headers=person.headers,
            ) as response:
                body = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            tally.errors[f"vote {type(error).__name__}"] += 1
            tally.unacked[key].append(VALUE[word])
            return
        finally:
            tally.requests += 1
        if status != 201:
            tally.errors[f"vote {status}"] += 1
            if status >= 500:
                tally.unacked[key].append(VALUE[word])
            return
        tally.latencies.append(loop.time() - due)  # from when the vote was due: queueing included
        tally.acked[key].append(VALUE[word])
        tally.last_ack = time.monotonic()
        nxt = json.loads(body)["next"]["statement"]
        if nxt is not None:
            person.shown = nxt
            idle.append(person)

    on_start()
    start = loop.time()
    due = start
    while True:
        due += rng.expovariate(rate)
        if due >= start + duration:
            break
        await asyncio.sleep(max(0.0, due - loop.time()))
        if not idle:
            tally.errors["no participant free to vote"] += 1
            continue
        task = asyncio.create_task(one_vote(idle.popleft(), due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    window = loop.time() - start
    for person in pool:
        await person.http.close()
    await connector.close()
    return tally, window


@dataclass
class Step:
    rate: float
    votes: int
    p50: float
    p95: float
    p99: float
    errors: int
    lost: int
    web_cpu_ms_per_vote: float

    @property
    def held(self) -> bool:
        return self.p99 < 100 and self.errors == 0 and self.lost == 0 and self.votes > 0


def run_rate(servers: Servers, rate: float, args) -> Step:
    """One open-loop run at ``rate`` votes/s, audited."""
    started = []  # the web CPU when the clock starts: giving the participants their sessions is set-up, not votes

    def on_start() -> None:
        started.append(_cpu_seconds(servers.processes[0].pid))

    tally, window = asyncio.run(open_loop(servers.base, rate, args.duration, args.statements, args.seed, on_start))
    web_cpu = _cpu_seconds(servers.processes[0].pid) - started[0]
    found = audit(servers.database_url, servers.consultation_id, tally)
    votes = sum(len(v) for v in tally.acked.values())
    p50, p95, p99 = (_percentile(tally.latencies, q) * 1000 for q in (50, 95, 99))
    step = Step(rate, votes, p50, p95, p99, errors_of(tally), found["lost"], web_cpu / max(votes, 1) * 1000)
    print(f"rate {rate:7.1f}/s  {votes} votes in {window:.1f} s  p50 {p50:.1f} ms  p95 {p95:.1f} ms  "
          f"p99 {p99:.1f} ms  errors {step.errors}" + (f" {dict(tally.errors)}" if step.errors else "")
          + f"  lost {step.lost}  web CPU {step.web_cpu_ms_per_vote:.2f} ms/vote  "
          + ("held" if step.held else "did not hold"), flush=True)  # fmt: skip
    return step


def find_max(servers: Servers, args) -> Step | None:
    """Double the rate until it does not hold, then bisect between the last that held and the first that did not."""
    held, failed = None, None
    rate = args.rate or 50.0
    while failed is None and rate <= args.max_rate:
        step = run_rate(servers, rate, args)
        if step.held:
            held, rate = step, rate * 2
        else:
            failed = rate
    if held is None or failed is None:
        return held
    low, high = held.rate, failed
    while high - low > max(10.0, low * 0.1):
        step = run_rate(servers, (low + high) / 2, args)
        if step.held:
            held, low = step, step.rate
        else:
            high = step.rate
    return held


# ----------------------------------------------------------------------------------------------------------------
# The audit
# ----------------------------------------------------------------------------------------------------------------
def audit(database_url: str, consultation_id: int, tally: Tally) -> dict:
    """Compare every acknowledged vote with the database: lost, duplicated, phantom."""
    from sqlalchemy import create_engine, select

    from participate.models import CurrentVote, Participant, Vote

    engine = create_engine(database_url)
    with engine.connect() as connection:
        participants = dict(
            connection.execute(
                select(Participant.token_hash, Participant.id).where(
                    Participant.consultation_id == consultation_id,
                    Participant.xid.is_(None),  # the seeded simulated voters have an xid
                )
            ).all()
        )
        ours = set(participants.values())
        history = Counter(
            (p, s)
            for p, s in connection.execute(
                select(Vote.participant_id, Vote.statement_id).where(Vote.consultation_id == consultation_id)
            )
            if p in ours
        )
        current = {
            (p, s): v
            for p, s, v in connection.execute(
                select(CurrentVote.participant_id, CurrentVote.statement_id, CurrentVote.value).where(
                    CurrentVote.consultation_id == consultation_id
                )
            )
            if p in ours
        }
    engine.dispose()

    def pid(token: str) -> int | None:
        return participants.get(hashlib.sha256(f"{consultation_id}:{token}".encode()).hexdigest())

    lost = duplicated = phantom = wrong_latest = 0
    expected: set = set()
    for (token, statement_id), values in tally.acked.items():
        key = (pid(token), statement_id)
        expected.add(key)
        if key[0] is None:
            lost += len(values)
            continue
        maybe = len(tally.unacked.get((token, statement_id), ()))
        stored = history.get(key, 0)
        lost += max(0, len(values) - stored)
        duplicated += max(0, stored - len(values) - maybe)
        if current.get(key) != values[-1] and current.get(key) not in tally.unacked.get((token, statement_id), ()):
            wrong_latest += 1
    maybe_stored = {(pid(t), s) for (t, s) in tally.unacked}
    phantom += sum(n for key, n in history.items() if key not in expected and key not in maybe_stored)
    phantom += sum(1 for key in current if key not in expected and key not in maybe_stored)
    return {"lost": lost + wrong_latest, "wrong_latest": wrong_latest, "duplicated": duplicated, "phantom": phantom,
            "history_rows": sum(history.values()), "current_rows": len(current)}  # fmt: skip


def analysis_lag(database_url: str, consultation_id: int, last_ack: float, timeout: float) -> float | None:
    """Seconds from the last acknowledged vote until a snapshot includes every vote (None: not within timeout)."""
    from sqlalchemy import create_engine, func, select

    from participate.models import AnalysisSnapshot
    from participate.services.snapshots import store

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            last_vote = connection.scalar(store.last_vote_id(consultation_id))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                covered = connection.scalar(
                    select(func.max(AnalysisSnapshot.last_vote_id)).where(
                        AnalysisSnapshot.consultation_id == consultation_id
                    )
                )
            if covered is not None and covered >= last_vote:
                return time.monotonic() - last_ack
            time.sleep(0.05)
        return None
    finally:
        engine.dispose()


async def _baseline(base: str, participants: int, duration: float) -> int:
    """Requests answered by ``GET /healthz`` (one ``SELECT 1``) from as many clients as participants: the ceiling."""
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    deadline = time.monotonic() + duration
    answered = 0

    async def client() -> None:
        nonlocal answered
        async with aiohttp.ClientSession(base, connector=connector, connector_owner=False) as http:
            while time.monotonic() < deadline:
                async with http.get("/healthz") as response:
                    await response.read()
                    answered += response.status == 200

    await asyncio.gather(*(client() for _ in range(participants)))
    await connector.close()
    return answered


def baseline(servers: "Servers", participants: int, duration: float) -> tuple[float, float]:
    """(requests/s, web CPU ms per request) of ``GET /healthz``: the ceiling, and the unit of CPU here and now."""
    started = time.monotonic()
    cpu_before = _cpu_seconds(servers.processes[0].pid)
    answered = asyncio.run(_baseline(servers.base, participants, duration))
    cpu = _cpu_seconds(servers.processes[0].pid) - cpu_before
    return answered / (time.monotonic() - started), cpu / max(answered, 1) * 1000


def errors_of(tally: Tally) -> int:
    return sum(tally.errors.values())


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--duration", type=float, default=30, help="seconds of load (default 30)")
    parser.add_argument("--participants", type=int, default=200, help="concurrent participants (default 200)")
    parser.add_argument("--statements", type=int, default=40, help="seed statements (default 40)")
    parser.add_argument("--seed-participants", type=int, default=2000, help="simulated voters before the load")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes (default 2)")
    parser.add_argument("--threads", type=int, default=16, help="threads per gunicorn process (default 16)")
    parser.add_argument("--analysis-workers", type=int, default=1, help="participate worker processes (PostgreSQL)")
    parser.add_argument("--revote", type=float, default=0.05, help="chance to change an earlier vote after voting")
    parser.add_argument("--submit", type=float, default=0.01, help="chance to submit a statement after voting")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds each participant reads before voting (default 0: vote as soon as the server answers)",
    )
    parser.add_argument(
        "--baseline", type=float, default=5, help="seconds of GET /healthz first, the baseline (0: skip it)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lag-timeout", type=float, default=120)
    parser.add_argument("--rate", type=float, help="open loop: votes per second arriving in a Poisson process")
    parser.add_argument("--find-max", action="store_true", help="open loop: the highest rate with p99 < 100 ms")
    parser.add_argument("--max-rate", type=float, default=5000, help="--find-max stops doubling here")
    args = parser.parse_args(argv)

    if args.rate is not None or args.find_max:
        return open_loop_main(args)
    servers = start_servers(args)
    try:
        print(f"{args.backend}: gunicorn {args.web_workers} processes x {args.threads} threads on {servers.base}; "
              f"{args.participants} participants for {args.duration:.0f} s…", flush=True)  # fmt: skip
        floor, healthz_cpu = baseline(servers, args.participants, args.baseline) if args.baseline else (None, None)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        web_cpu_before = _cpu_seconds(servers.processes[0].pid)
        workers_cpu_before = sum(_cpu_seconds(p.pid) for p in servers.processes[1:])
        postgres_cpu_before = _cpu_seconds(servers.postgres_pid)
        redis_cpu_before = _cpu_seconds(servers.redis_pid)
        busy_before = _machine_busy()
        started = time.monotonic()
        behaviour = Behaviour(args.revote, args.submit, args.think)
        tally = asyncio.run(drive(servers.base, args.participants, args.duration, args.seed, behaviour))
        wall = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        web_cpu = _cpu_seconds(servers.processes[0].pid) - web_cpu_before
        workers_cpu = sum(_cpu_seconds(p.pid) for p in servers.processes[1:]) - workers_cpu_before
        postgres_cpu = _cpu_seconds(servers.postgres_pid) - postgres_cpu_before
        redis_cpu = _cpu_seconds(servers.redis_pid) - redis_cpu_before
        busy_after = _machine_busy()
        lag = analysis_lag(servers.database_url, servers.consultation_id, tally.last_ack, args.lag_timeout)
        found = audit(servers.database_url, servers.consultation_id, tally)
        if lag is None or errors_of(tally):
            print("--- end of the server log ---\n" + "".join(servers.log.read_text().splitlines(True)[-40:]))
    finally:
        servers.stop()

    votes = sum(len(v) for v in tally.acked.values())
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    machine = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1) * os.cpu_count()
    p50, p95, p99 = (_percentile(tally.latencies, q) * 1000 for q in (50, 95, 99))
    errors = sum(tally.errors.values())
    print(f"votes acknowledged   {votes} in {wall:.1f} s = {votes / wall:.0f} votes/s "
          f"({tally.revotes} changed votes, {tally.statements_added} statements, {tally.people} people, "
          f"{tally.requests / wall:.0f} requests/s)")  # fmt: skip
    print(f"vote latency         p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
    print(f"errors               {errors}" + (f" {dict(tally.errors)}" if errors else ""))
    print(f"audit                {found}")
    print(f"analysis lag         {f'{lag:.2f} s' if lag is not None else f'not within {args.lag_timeout:.0f} s'}")
    if floor:
        print(f"baseline             GET /healthz (one SELECT 1) answered {floor:.0f} requests/s on the same servers "
              f"just before: votes/s is {votes / wall / floor:.2f} of that ceiling")  # fmt: skip
    print(f"web CPU per request  {web_cpu / max(tally.requests, 1) * 1000:.2f} ms")
    if healthz_cpu:
        per_vote = web_cpu / max(votes, 1) * 1000
        print(
            f"web CPU per vote     {per_vote:.2f} ms = {per_vote / healthz_cpu:.1f} x GET /healthz "
            f"({healthz_cpu:.2f} ms on the same servers just before: a busy machine inflates both)"
        )
    print(f"CPU (cores busy)     load generator {client_cpu / wall:.2f}, web {web_cpu / wall:.2f}, "
          f"analysis workers {workers_cpu / wall:.2f}, PostgreSQL {postgres_cpu / wall:.2f}, "
          f"Redis {redis_cpu / wall:.2f}, whole machine {machine:.2f} of {os.cpu_count()}")  # fmt: skip
    lag_text = f"{lag:.2f}" if lag is not None else "inf"
    print(
        f"summary              backend={args.backend} participants={args.participants} votes_per_s={votes / wall:.0f} "
        f"duplicated={found['duplicated']} phantom={found['phantom']} lag_s={lag_text}"
    )
    print(
        f"RESULT rate={votes / wall:.0f} p99_ms={p99:.1f} lost={found['lost']} "
        f"web_cpu_ms_per_vote={web_cpu / max(votes, 1) * 1000:.2f}"
    )
    ok = found["lost"] == 0 and found["duplicated"] == 0 and found["phantom"] == 0 and lag is not None
    return 0 if ok else 1


def open_loop_main(args) -> int:
    """``--rate`` and ``--find-max``: the open loop on one set of servers."""
    servers = start_servers(args)
    try:
        print(f"{args.backend}: gunicorn {args.web_workers} processes x {args.threads} threads on {servers.base}; "
              f"open loop, {args.duration:.0f} s per rate…", flush=True)  # fmt: skip
        if args.baseline:
            _, healthz_cpu = baseline(servers, 20, min(args.baseline, 3))
            print(
                f"GET /healthz costs {healthz_cpu:.2f} ms of web CPU here now (the unit: a busy machine inflates both)"
            )
        step = find_max(servers, args) if args.find_max else run_rate(servers, args.rate, args)
    finally:
        servers.stop()
    if step is None:
        print(f"no rate from {args.rate or 50:g} votes/s held")
        print("RESULT rate=0 p99_ms=nan lost=0 web_cpu_ms_per_vote=nan")
        return 1
    print(
        f"RESULT rate={step.rate:.0f} p99_ms={step.p99:.1f} lost={step.lost} "
        f"web_cpu_ms_per_vote={step.web_cpu_ms_per_vote:.2f}"
    )
    return 0 if step.lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
