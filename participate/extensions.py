"""Flask extensions, created unbound so that any module can import them without import cycles."""

import time
import weakref
from typing import ClassVar

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .security import ip_key

# Named constraints make Alembic migrations reviewable and portable (SQLite needs names for batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()


class SweptMemoryStorage(MemoryStorage):
    """limits' per-process memory storage, without its timer thread.

    ``MemoryStorage`` starts a new thread 10 ms after any counter changes, to drop expired counters: under steady
    voting that is a thread start for almost every vote, about a fifth of a vote's CPU. A counter that has expired
    already reads as zero (``get`` drops it), so here the sweep that frees their memory runs in the request that
    finds a second has passed since the last one. Same counts, same limits.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = ["swept-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self.timer.cancel()

    def _MemoryStorage__schedule_expiry(self) -> None:  # what MemoryStorage calls after every change
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()


# KEYS: the counters, in order. ARGV: the cost, then each counter's expiry and limit. limits' own fixed window
# (incr_expire.lua), for several counters at once, stopping at the first one over its limit; its number, else 0.
_HIT_IN_ORDER = """
local cost = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local current = redis.call("incrby", key, cost)
  if current == cost then redis.call("expire", key, ARGV[2 * i]) end
  if current > tonumber(ARGV[2 * i + 1]) then return i end
end
return 0
"""
_scripts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def hit_in_order(hits: list[tuple]) -> int | None:
    """Count a request against several limits (``(RateLimitItem, identifiers)``) in order, stopping at the first one
    exceeded, as Flask-Limiter does; that one's index, or None. The counters are the limiter's own. With Redis and
    the fixed window (the default), one round trip for all of them rather than one each."""
    strategy = limiter.limiter
    storage = strategy.storage
    # Not on a Redis cluster (a subclass): the counters' keys may live in different slots there.
    if isinstance(strategy, FixedWindowRateLimiter) and type(storage) is RedisStorage:
        script = _scripts.get(storage)
        if script is None:
            script = _scripts[storage] = storage.get_connection().register_script(_HIT_IN_ORDER)
        keys = [storage.prefixed_key(item.key_for(*identifiers)) for item, identifiers in hits]
        arguments = [1] + [n for item, _ in hits for n in (item.get_expiry(), item.amount)]
        exceeded = int(script(keys, arguments))
        return exceeded - 1 if exceeded else None
    for index, (item, identifiers) in enumerate(hits):
        if not strategy.hit(item, *identifiers):
            return index
    return None


# Counters live where RATELIMIT_STORAGE_URI says: memory (per process, "swept-memory://") unless e.g. a redis:// URI
# shares them.
limiter = Limiter(key_func=ip_key)  # keyed by a hash of the address, never the address


def redis_client(app):
    """The app's Redis client (thread-safe, pooled), created on first use."""
    client = app.extensions.get("participate.redis")
    if client is None:
        import redis

        client = app.extensions["participate.redis"] = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
        )
    return client
