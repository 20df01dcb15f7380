"""Who may send a command and how often, and what a refusal leaves behind: counted in the
metrics and the session's tally every time, logged at a bounded rate, floods included."""

from __future__ import annotations

from .log import logger
from .metrics import MeasuredCommand
from .options import SyncOptions
from .protocol import ErrorCode, ProtocolError
from .rate_limit import RateLimiter
from .summary import SessionTally


class Admission:
    def __init__(self, options: SyncOptions, tally: SessionTally) -> None:
        self._limiter = RateLimiter(
            rate_per_second=options.rate_per_second, burst=options.rate_burst
        )
        self._tally = tally
        self._log_budget = RateLimiter(rate_per_second=1.0, burst=20, max_senders=1)

    def admit(self, sender: str, *, linked: str | None) -> None:
        """Checks that come before decoding: how often, and who sent it."""
        if not self.within_rate(sender):
            raise ProtocolError(ErrorCode.RATE_LIMITED, "too many commands; slow down")
        if linked is None or sender != linked:
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                f"participant {sender!r} is not the session's linked user",
                {"sender": sender},
            )

    def within_rate(self, sender: str) -> bool:
        return self._limiter.allow(sender)

    def refused(
        self, measured: MeasuredCommand, e: ProtocolError, sender: str, method: str | None
    ) -> None:
        measured.method, measured.outcome = method, str(e.code)
        self._tally.rejected(str(e.code))
        if self._log_budget.allow("refusals"):
            logger.warning(
                "refused a session-sync command from %s: %s",
                sender,
                e.message,
                extra={"code": str(e.code), "method": method},
            )

    def dropped(self, sender: str | None) -> None:
        """Over the intake's bounds: no reply, the sender is far past its rate anyway."""
        measured = MeasuredCommand()
        measured.outcome = "dropped"
        measured.record()
        if self._log_budget.allow("refusals"):
            logger.warning("dropped a session-sync message from %s: too many waiting", sender)

    @staticmethod
    def failed(measured: MeasuredCommand) -> None:
        measured.outcome = str(ErrorCode.INTERNAL)
        logger.exception("session-sync command %s failed", measured.method)
