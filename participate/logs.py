"""Logging: one JSON object per line in production (for a log shipper), plain text otherwise."""

import hashlib
import json
import logging
import logging.config
import re
from datetime import UTC, datetime

from werkzeug.serving import WSGIRequestHandler

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# Secrets that travel in a path: a published report's token, a staff invitation's token. Logged as a short hash, so
# lines about one token can still be matched, but the token cannot be read back.
_PATH_TOKENS = re.compile(r"^(/r/|/invite/)([^/?#.]+)")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}|[0-9A-Fa-f:]*::[0-9A-Fa-f:.]*)(?![\w:])")


def redact_path(path: str) -> str:
    """A request path fit for a log: without its query string, tokens in the path replaced by a short hash."""
    path = (path or "").split("?", 1)[0]
    return _PATH_TOKENS.sub(lambda m: m.group(1) + "~" + hashlib.sha256(m.group(2).encode()).hexdigest()[:12], path)


def redact_addresses(text: str) -> str:
    """``text`` with every IPv4 or IPv6 address replaced by ``[address]``."""
    return _IPV6.sub("[address]", _IPV4.sub("[address]", text))


class RedactAddresses(logging.Filter):
    """No raw IP address in any log line (gunicorn's error log names clients' addresses, for one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_addresses(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields, "exception"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def config_dict(json_lines: bool, level: str = "INFO") -> dict:
    """A ``logging.config.dictConfig`` mapping (also gunicorn's ``logconfig_dict``): everything to stderr."""
    formatter = {"()": JsonFormatter} if json_lines else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"addresses": {"()": RedactAddresses}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
                "filters": ["addresses"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": level, "handlers": ["stderr"], "propagate": False},
            "rq.worker": {"level": level, "handlers": ["stderr"], "propagate": False},
            "werkzeug": {"level": level, "handlers": ["stderr"], "propagate": False},
        },
    }


def configure(json_lines: bool, level: str = "INFO") -> None:
    logging.config.dictConfig(config_dict(json_lines, level))


class DevRequestHandler(WSGIRequestHandler):
    """The development server's request log, as gunicorn's: no client address, query string or path token."""

    def address_string(self) -> str:
        return "-"

    def log_request(self, code="-", size="-") -> None:
        path = redact_path(getattr(self, "path", "") or "")
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)
