"""Use cases. Each public function takes a session, does one thing, and commits once.

Services raise the domain errors below; views translate them into a status and a message.
"""

#: The largest row id: primary keys are INTEGER, signed 32-bit on PostgreSQL; a larger number is no row (and would
#: overflow the column in SQL, a 500 instead of a 404).
MAX_ID = 2**31 - 1


def is_id(value: object) -> bool:
    """Whether ``value`` can be a row's id: an int (not a bool) from 1 to :data:`MAX_ID`."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def N_(message: str) -> str:
    """Mark a message for the catalogues (``pybabel extract -k N_``); the view translates it when it shows it."""
    return message


class Term(str):
    """A message parameter that is interface text itself (a field's name, marked with ``N_``): translated too."""


class ServiceError(Exception):
    """A request that cannot be carried out, with a message a person understands."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **params):
        self.template = message
        self.params = params
        self.message = message % params if params else message  # English, for logs, the CLI and tests
        super().__init__(self.message)

    def translated(self) -> str:
        """The message in the request's interface language (English if the catalogue does not have it)."""
        from flask_babel import gettext

        params = {name: gettext(value) if isinstance(value, Term) else value for name, value in self.params.items()}
        return gettext(self.template, **params)


class InvalidInput(ServiceError):
    status = 400
    code = "invalid"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
