"""Use cases. Each public function takes a session, does one thing, and commits once.

Services raise the domain errors below; views translate them into a status and a message.
"""


class ServiceError(Exception):
    """A request that cannot be carried out, with a message a person understands."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
