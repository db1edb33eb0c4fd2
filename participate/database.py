"""Database helpers shared by services: dialect-aware upserts and SQLite connection settings."""

import contextlib
import threading

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

#: The INSERT construct with ``on_conflict_do_*`` of each supported database.
INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert(session: Session, table):
    """An INSERT that supports ``on_conflict_do_*`` on the session's database (SQLite or PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    if dialect not in INSERTS:
        raise RuntimeError(f"Unsupported database {dialect!r}: use SQLite or PostgreSQL")
    return INSERTS[dialect](table)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Foreign keys are off and the journal is rollback-only by default in SQLite; turn on both protections."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


_sqlite_writer = threading.Lock()


def one_writer(session: Session):
    """A context in which to write and commit: on SQLite, the process's threads take turns on a lock.

    SQLite lets one connection write at a time, and one that finds the database locked sleeps in steps of up to
    100 ms; queueing on a lock instead keeps busy voting from idling. Other databases: no lock.
    """
    if session.get_bind().dialect.name == "sqlite":
        return _sqlite_writer
    return contextlib.nullcontext()
