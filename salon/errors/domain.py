"""The errors a service raises when a rule says no; each carries the HTTP status it is answered with."""
from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `field` names the input at fault, when there is one."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_fields(self) -> dict[str, list[str]]:
        return {self.field or "_": [self.message]}


class ValidationFailed(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class BadInput(DomainError):
    """The request body as a whole cannot be read (nested too deep): 400, naming `body`."""

    status = 400


def not_the_forms(exc: DomainError) -> None:
    """A page's form shows the rule's refusals under its fields. What is missing (404) or not the asker's to do
    (403) is not the form's to show: it goes on to the one error handler (salon.errors.register), which answers it
    alike in every room, as a page or as JSON."""
    if isinstance(exc, (NotFound, Forbidden)):
        raise exc
