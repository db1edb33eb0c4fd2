"""gunicorn's access log without secrets: no query strings (XIDs and their signatures, invite codes, report keys), no
path tokens (published reports, staff invitations: a short hash instead) and no client addresses."""

import logging

from gunicorn.glogging import Logger

from .logs import redact_path


class AccessLogger(Logger):
    """``logger_class`` of deploy/gunicorn.conf.py: every atom that could carry a secret is redacted or emptied."""

    def access(self, resp, req, environ, request_time):
        """Only when the access log is on (``PARTICIPATE_ACCESS_LOG``) and would keep the line: with a logging
        configuration, gunicorn logs every request whatever ``accesslog`` says, and builds its atoms even when the
        level drops the line."""
        if self.cfg.accesslog and self.access_log.isEnabledFor(logging.INFO):
            super().access(resp, req, environ, request_time)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(environ.get("PATH_INFO", ""))
        atoms.update(
            {
                "h": "-",
                "r": f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}",
                "U": path,
                "q": "",
                "f": "-",  # a referring address carries its own query string
                "{x-forwarded-for}i": "-",
                "{forwarded}i": "-",
                "{x-real-ip}i": "-",
            }
        )
        return atoms
