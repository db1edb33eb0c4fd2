"""Liveness and readiness: what a load balancer or orchestrator asks before sending traffic."""

from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def readiness(session: Session, redis=None) -> dict[str, str]:
    """Check the database is reachable and migrated to this code's head, and Redis answers when configured.

    Returns ``{check: "ok" or what is wrong}``; the process is ready when every value is "ok".
    """
    checks: dict[str, str] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        try:
            current = frozenset(session.scalars(text("SELECT version_num FROM alembic_version")).all())
        except Exception:
            session.rollback()
            current = frozenset()
        heads = migration_heads()
        checks["migrations"] = "ok" if current == heads else f"at {sorted(current)}, code needs {sorted(heads)}"
    except Exception as error:
        session.rollback()
        checks["database"] = f"unreachable: {type(error).__name__}"
        checks["migrations"] = "unknown"
    finally:
        session.rollback()  # read-only: end the transaction at once
    if redis is not None:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
    return checks
