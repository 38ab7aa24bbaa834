"""Errors the domain raises: a rule said no. Services raise them; every entry point turns them into its own
answer (the API into {"error", "detail", "fields"}, the pages into a message beside the field)."""

from http import HTTPStatus


class ServiceError(Exception):
    """A rule of the domain said no. Raised by services, turned into an answer by each entry point."""

    code = "invalid"
    status_code = HTTPStatus.BAD_REQUEST

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code

    @property
    def fields(self) -> dict[str, list[str]]:
        return {self.field: [self.detail]} if self.field else {}


class Conflict(ServiceError):
    code = "conflict"
    status_code = HTTPStatus.CONFLICT
