"""Benchmark database → arrays: ``snapshot_votes.current_votes`` on PostgreSQL (binary COPY) against a plain SELECT.

Usage::

    .venv/bin/python bench/db_read.py [--votes 5000000] [--repeat 3]

Starts a throw-away PostgreSQL cluster (the tests' helper), fills a ``current_vote`` table with ``--votes`` unique
(participant, statement) pairs of one consultation (plus another consultation's votes, which must be skipped), then
times, best of ``--repeat``:

- ``copy``: :func:`~participate.services.snapshots.votes.current_votes` (``COPY ... TO STDOUT (FORMAT binary)``,
  numpy parse);
- ``select``: the ORM-free SELECT streamed in chunks, as ``current_votes`` does on other databases.

Prints one machine-readable line::

    RESULT votes=<n> copy_s=<x> select_s=<x> ratio=<select / copy>

Measured on the 2-core development machine (busy): 5,000,000 votes, copy 2.5 s, select 54 s (ratio 22). libpq hands
COPY data over one row per call, so the copy's time is mostly psycopg's per-row read loop.
"""

from __future__ import annotations

import argparse
import sys
import time

import bench_setup  # noqa: F401  (first: it puts the project on sys.path)
import numpy as np
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from participate.models import CurrentVote
from participate.services.snapshots import votes as snapshot_votes
from tests.servers import PostgresCluster

CONSULTATION = 1


def fill(session: Session, n_votes: int) -> None:
    """A bare ``current_vote`` table (no foreign keys) with ``n_votes`` votes of consultation 1, 1 % of another's."""
    statements = 2_000
    raw = session.connection().connection.driver_connection
    raw.execute(
        "CREATE TABLE current_vote (participant_id integer, statement_id integer, consultation_id integer, "
        "value smallint, vote_id integer, updated_at timestamptz DEFAULT now(), "
        "PRIMARY KEY (participant_id, statement_id))"
    )
    raw.execute("CREATE INDEX ix_current_vote_consultation_statement ON current_vote (consultation_id, statement_id)")
    raw.execute(
        "INSERT INTO current_vote (participant_id, statement_id, consultation_id, value, vote_id) "
        "SELECT i / %(s)s, i %% %(s)s, CASE WHEN i < %(n)s THEN 1 ELSE 2 END, "
        "((i::bigint * 7919) %% 3 - 1)::smallint, i "
        "FROM generate_series(0, %(total)s - 1) AS i",
        {"s": statements, "n": n_votes, "total": n_votes + n_votes // 100},
    )
    session.commit()
    raw.autocommit = True
    raw.execute("VACUUM ANALYZE current_vote")
    raw.autocommit = False


def plain_select(session: Session, consultation_id: int):
    """The ORM-free SELECT streamed in chunks (``current_votes``'s path on databases other than PostgreSQL)."""
    result = session.execute(
        select(CurrentVote.participant_id, CurrentVote.statement_id, CurrentVote.value)
        .where(CurrentVote.consultation_id == consultation_id)
        .execution_options(yield_per=snapshot_votes.STREAM_CHUNK)
    )
    chunks = [np.asarray(rows, dtype=np.int64).reshape(-1, 3) for rows in result.partitions()]
    matrix = np.concatenate(chunks) if chunks else np.zeros((0, 3), dtype=np.int64)
    return matrix[:, 0].copy(), matrix[:, 1].copy(), matrix[:, 2].astype(np.int8)


def best_of(repeat: int, fn) -> tuple[float, float, object]:
    """Best wall time and its CPU time over ``repeat`` calls, and the last result."""
    best = (float("inf"), 0.0)
    out = None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        elapsed = time.perf_counter() - start
        if elapsed < best[0]:
            best = (elapsed, time.process_time() - start_cpu)
    return best[0], best[1], out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=5_000_000, help="votes of the consultation read")
    parser.add_argument("--repeat", type=int, default=3, help="timed reads per method (best is kept)")
    args = parser.parse_args(argv)

    cluster = PostgresCluster().start()
    try:
        engine = create_engine(cluster.url())
        with Session(engine) as session:
            started = time.perf_counter()
            fill(session, args.votes)
            print(f"{args.votes:,} votes written in {time.perf_counter() - started:.1f} s (not timed)", flush=True)
        with Session(engine) as session:
            copy_s, copy_cpu, arrays = best_of(args.repeat, lambda: snapshot_votes.current_votes(session, CONSULTATION))
            session.rollback()
            select_s, select_cpu, plain = best_of(args.repeat, lambda: plain_select(session, CONSULTATION))
        assert len(arrays) == args.votes == len(plain[0])
        same = np.lexsort((arrays.statement_ids, arrays.participant_ids))
        other = np.lexsort((plain[1], plain[0]))
        assert np.array_equal(arrays.values[same], plain[2][other]), "COPY and SELECT disagree"
        print(f"copy   {copy_s:7.2f} s wall {copy_cpu:7.2f} s cpu (this process; the server works too)")
        print(f"select {select_s:7.2f} s wall {select_cpu:7.2f} s cpu")
        print(f"RESULT votes={args.votes} copy_s={copy_s:.3f} select_s={select_s:.3f} ratio={select_s / copy_s:.1f}")
        engine.dispose()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
