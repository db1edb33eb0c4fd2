"""A cache shared by every process of every machine, in the database: built reports, PDFs, the monitor's figures.

Values are bytes under a key that names what they show (a snapshot, a language, a digest of the content), so a
key is never stale: a change makes a new key, and old keys of a consultation are pruned. One builder per key: the
first process to miss takes a lease (a row without a value, inserted or taken over atomically once expired) and
builds; the others wait for its value or answer "not ready yet". Reads and writes use their own short transaction,
never the caller's session, so a page that reads the cache still never commits.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..database import INSERTS, one_writer
from ..models import SharedCache, utcnow

LEASE_SECONDS = 600  # a builder that dies leaves its lease; another may take it after this
KEEP = 8  # values kept per consultation and kind (the newest)


def key(kind: str, consultation_id: int | None, digest: str) -> str:
    """A cache key: its kind and consultation first, so a consultation's old values of one kind can be pruned."""
    return f"{kind}:{consultation_id or 0}:{digest}"[:100]


def get(session: Session, name: str) -> bytes | None:
    """The value stored under ``name``, or None (also while someone holds its lease)."""
    with session.get_bind().connect() as connection:
        return connection.scalar(select(SharedCache.value).where(SharedCache.key == name))


def put(session: Session, name: str, value: bytes, *, consultation_id: int | None) -> None:
    """Store a value (releasing the lease on it), then prune the consultation's older values of the same kind."""
    engine = session.get_bind()
    now = utcnow()
    upsert = INSERTS[engine.dialect.name](SharedCache).values(
        key=name, consultation_id=consultation_id, value=value, lease_until=None, built_at=now
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[SharedCache.key], set_={"value": value, "lease_until": None, "built_at": now}
    )
    # The connection before the SQLite writer lock, in the order requests take them: the other way round, a
    # builder holding the lock waited for a pooled connection that requests waiting for the lock held (30 s stalls).
    with engine.begin() as connection, one_writer(session):
        connection.execute(upsert)
        if consultation_id is not None:
            kind = name.split(":", 1)[0]
            old = connection.scalars(
                select(SharedCache.key)
                .where(
                    SharedCache.consultation_id == consultation_id,
                    SharedCache.key.like(f"{kind}:%"),
                    SharedCache.value.is_not(None),
                )
                .order_by(SharedCache.built_at.desc(), SharedCache.key)
                .offset(KEEP)
            ).all()
            if old:
                connection.execute(delete(SharedCache).where(SharedCache.key.in_(old)))


def take_lease(session: Session, name: str, *, consultation_id: int | None, seconds: float = LEASE_SECONDS) -> bool:
    """Whether this caller may build ``name``: True for exactly one of many simultaneous callers, and again only
    once that one's lease has expired without a value."""
    engine = session.get_bind()
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    claim = INSERTS[engine.dialect.name](SharedCache).values(
        key=name, consultation_id=consultation_id, value=None, lease_until=until, built_at=now
    )
    claim = claim.on_conflict_do_update(
        index_elements=[SharedCache.key],
        set_={"lease_until": until},
        where=SharedCache.value.is_(None) & (SharedCache.lease_until < now),
    )
    # RETURNING, not rowcount: psycopg reports -1 for an upsert's rowcount, which read as "someone else has it"
    # (a wait for the whole lease on PostgreSQL).
    with engine.begin() as connection, one_writer(session):
        return connection.execute(claim.returning(SharedCache.key)).first() is not None


def release(session: Session, name: str) -> None:
    """Give up a lease without a value (the build failed), so the next caller may try at once."""
    engine = session.get_bind()
    with engine.begin() as connection, one_writer(session):
        connection.execute(delete(SharedCache).where(SharedCache.key == name, SharedCache.value.is_(None)))


def get_or_build(
    session: Session,
    name: str,
    build: Callable[[], bytes],
    *,
    consultation_id: int | None,
    wait: float = LEASE_SECONDS,
    lease_seconds: float = LEASE_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bytes | None:
    """The value under ``name``, built by this caller if no one else is building it; while another process builds
    it, wait up to ``wait`` seconds for its value, then None."""
    value = get(session, name)
    deadline = clock() + wait
    while value is None:
        if take_lease(session, name, consultation_id=consultation_id, seconds=lease_seconds):
            try:
                value = build()
            except BaseException:
                release(session, name)
                raise
            put(session, name, value, consultation_id=consultation_id)
            return value
        if clock() >= deadline:
            return None
        sleep(0.1)
        value = get(session, name)
    return value
