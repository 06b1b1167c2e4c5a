"""Domain errors.

Every error the platform raises on purpose is an :class:`AgoriaError`. Each carries two
messages: ``user_message`` is safe to show to whoever made the request (no host paths, no
tokens, no stack traces); ``log_message`` is the operator's detail for the log. Callers at
the edge (the CLI, the hub, the airlock API) print the first and log the second.
"""

from __future__ import annotations


class AgoriaError(Exception):
    """Base of all deliberate refusals.

    ``exit_code`` is what the command line returns for this error: 2 means "your input was
    refused and nothing changed".
    """

    exit_code: int = 2

    def __init__(self, user_message: str, log_message: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.log_message = log_message if log_message is not None else user_message

    def __str__(self) -> str:
        return self.user_message


class InvalidInput(AgoriaError):
    """A value is malformed or out of range (a bad slug, a date in the past...)."""


class NotFound(AgoriaError):
    """A named thing (project, dataset version, member, grant) does not exist."""


class Conflict(AgoriaError):
    """The request contradicts the current state (a duplicate, an archived project...)."""


class PermissionDenied(AgoriaError):
    """The actor may not do this. The user message never reveals more than the refusal."""


class CatalogNotReady(AgoriaError):
    """The catalog database is missing, unreachable or at another schema revision."""


class ConfigurationError(AgoriaError):
    """The platform's own configuration is unusable (unwritable data directory...)."""


class AnchorWriteFailed(AgoriaError):
    """A change was committed but its audit anchor line could not be written.

    Exit status 4: unlike every other refusal, the change *did* happen. ``audit verify``
    reports the unanchored events until an operator has looked at them.
    """

    exit_code = 4


class AuditChainBroken(AgoriaError):
    """The audit log failed verification. Exit status 1: the integrity check failed."""

    exit_code = 1
