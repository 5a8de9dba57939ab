"""Domain errors. Each carries its HTTP status; one handler in main.py renders them."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class Gone(DomainError):
    status_code = 410


class PreconditionFailed(DomainError):
    """If-Match named a version that is no longer current (412)."""

    status_code = 412


class Invalid(DomainError):
    """A well-formed request that breaks a business rule on a field (422)."""

    status_code = 422

    def __init__(self, detail: str, *, field: str, location: str = "body") -> None:
        super().__init__(detail)
        self.field = field
        self.location = location


class Unauthorized(DomainError):
    status_code = 401


class Throttled(DomainError):
    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
