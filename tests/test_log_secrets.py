"""Secrets never in logs (issue 23, M6): the access logs (gunicorn's, and the development server's) hold no query
string, no path token and no client address; any other log line has its IP addresses replaced."""

import io
import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from participate import logs

CONF = Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"
SECRETS = ("alice-xid", "deadbeefsig", "INVITE42", "report-key-1", "PublishedToken123", "StaffInvite456", "203.0.113.9")
REQUESTS = [
    ("/c/town", "xid=alice-xid&sig=deadbeefsig"),
    ("/c/town", "code=INVITE42"),
    ("/c/town/report", "key=report-key-1"),
    ("/r/PublishedToken123", ""),
    ("/r/PublishedToken123.pdf", ""),
    ("/invite/StaffInvite456", ""),
]


def _environ(path, query):
    return {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path + (f"?{query}" if query else ""),
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://example.org{path}?{query}",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9",
    }


def test_the_gunicorn_access_log_holds_no_secret():
    from gunicorn.config import Config
    from gunicorn.glogging import SafeAtoms

    settings = runpy.run_path(str(CONF))
    config = Config()
    config.set("logger_class", settings["logger_class"])
    config.set("access_log_format", settings["access_log_format"])
    logger = config.logger_class(config)
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    for path, query in REQUESTS:
        environ = _environ(path, query)
        request = SimpleNamespace(headers=[("X-FORWARDED-FOR", "203.0.113.9"), ("REFERER", environ["HTTP_REFERER"])])
        atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
        line = settings["access_log_format"] % SafeAtoms(atoms)
        assert not [s for s in SECRETS if s in line], line
        assert line.startswith('"GET /'), line
    assert logs.redact_path("/r/PublishedToken123.pdf").startswith("/r/~")


def _gunicorn_logger(environment: dict, monkeypatch):
    from gunicorn.config import Config

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = runpy.run_path(str(CONF))
    config = Config()
    for name in ("logger_class", "access_log_format", "accesslog", "logconfig_dict"):
        config.set(name, settings[name])
    return config.logger_class(config)


def test_the_access_log_switch_turns_gunicorns_access_log_off(monkeypatch):
    response = SimpleNamespace(status="201 CREATED", sent=10, headers=[])
    request = SimpleNamespace(headers=[])
    environ = _environ("/api/v1/consultations/town/votes", "")
    lines = []
    for switch in ("true", "false"):
        logger = _gunicorn_logger({"PARTICIPATE_ACCESS_LOG": switch, "PARTICIPATE_LOG_LEVEL": "INFO"}, monkeypatch)
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        logger.access_log.addHandler(handler)
        try:
            logger.access(response, request, environ, timedelta(milliseconds=3))
        finally:
            logger.access_log.removeHandler(handler)
        lines.append(stream.getvalue())
    on, off = lines
    assert "/api/v1/consultations/town/votes" in on and off == ""


def test_the_development_server_logs_no_address_query_or_token(caplog):
    handler = logs.DevRequestHandler.__new__(logs.DevRequestHandler)
    handler.client_address = ("203.0.113.9", 50000)
    handler.command, handler.request_version = "GET", "HTTP/1.1"
    handler.log_date_time_string = lambda: "06/Dec/2026 03:00:00"
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        for path, query in REQUESTS:
            handler.path = path + (f"?{query}" if query else "")
            handler.log_request(200, 10)
    text = caplog.text
    assert text.count('"GET /') == len(REQUESTS)
    assert not [s for s in SECRETS if s in text], text


def test_no_raw_address_in_any_configured_log_line():
    stream = io.StringIO()
    logs.configure(json_lines=False)
    handlers = {h for name in ("", "gunicorn.error", "werkzeug") for h in logging.getLogger(name).handlers}
    old = [h.setStream(stream) for h in handlers]
    try:
        logging.getLogger("gunicorn.error").warning("Invalid request from ip=%s: bad", "203.0.113.9")
        logging.getLogger("werkzeug").warning("from %s", "2001:db8::1")
        logging.getLogger("participate").warning("at 03:00:15 nothing happened")
    finally:
        for handler, previous in zip(handlers, old, strict=True):
            handler.setStream(previous)
    text = stream.getvalue()
    assert "203.0.113.9" not in text and "2001:db8::1" not in text and text.count("[address]") == 2
    assert "03:00:15" in text  # times are not addresses
