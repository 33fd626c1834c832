"""What a stage's rules can say "no" with; the app factory turns each kind into its HTTP problem.

The domain modules stay free of HTTP: they raise these (or their own subclasses) and
`services.common.app` maps the kind to a status: invalid → 422, missing → 404, not yours → 403,
state conflict → 409.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command the rules refuse; `field` names the input at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Missing(DomainError):
    """Nothing with that id here (or nothing the caller may know about)."""


class NotYours(DomainError):
    """It exists, and the caller knows it does, but it is someone else's to act on."""


class StateConflict(DomainError):
    """The thing is not in a state that allows this, now."""
