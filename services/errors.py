"""Domain errors, each worded for the resident; the API layer maps them to HTTP codes."""

from __future__ import annotations


class DomainError(Exception):
    """A request the service refuses, with a Chinese message safe to show the resident."""

    code = "error"
    # Writes made before the refusal (audit row, rate-limit counter) are committed when True:
    # a refused lookup must still leave its trace.
    keep_writes = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ServiceUnavailable(DomainError):
    """The database cannot be reached (restarting, failing over): nothing was done; try again."""

    code = "unavailable"


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class ProofMismatch(NotFound):
    """A code with the wrong phone (or no such code): the failure counter it bumped must stay."""

    keep_writes = True


class Conflict(DomainError):
    code = "conflict"


class SlotFull(Conflict):
    code = "slot_full"


class AlreadyBooked(Conflict):
    code = "already_booked"


class NotOffered(Conflict):
    """The hall no longer takes new bookings for the service (its guide was removed from the catalog)."""

    code = "not_offered"


class BookingRefused(DomainError):
    """The date or time cannot be booked (past, closed, too far ahead, outside opening hours)."""

    code = "booking_refused"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class RateLimited(DomainError):
    code = "rate_limited"
    keep_writes = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotConfigured(DomainError):
    code = "not_configured"
