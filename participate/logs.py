"""Logging: one JSON object per line in production (for a log shipper), plain text otherwise."""

import json
import logging
import logging.config
from datetime import UTC, datetime

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


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
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": level, "handlers": ["stderr"], "propagate": False},
            "rq.worker": {"level": level, "handlers": ["stderr"], "propagate": False},
        },
    }


def configure(json_lines: bool, level: str = "INFO") -> None:
    logging.config.dictConfig(config_dict(json_lines, level))
