"""Shared by every suite: `--wire-samples DIR` records what the agent sends (see
support/wire_samples.py), and `info`, the LiveKit server the e2e and contract tests use."""

import os
import sys

import pytest

from support.livekit_server import HOW_TO_RUN, ServerInfo, server_from_env
from support.wire_samples import pytest_addoption as pytest_addoption
from support.wire_samples import pytest_configure as pytest_configure
from support.wire_samples import pytest_unconfigure as wire_samples_unconfigure

_exit_status: int | None = None


@pytest.fixture(scope="session")
def info() -> ServerInfo:
    """The server under test, or skip (fail in CI, which must run every test) with what is
    missing."""
    found = server_from_env()
    if isinstance(found, ServerInfo):
        return found
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{found} (CI must run every e2e test)", pytrace=False)
    pytest.skip(f"{found}; {HOW_TO_RUN}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Everything is reported: leave with pytest's own status, skipping the interpreter's
    finalisation. There, the livekit FFI's native runtime can still call back into Python
    as it is torn down and abort the process (a Rust panic that cannot unwind, exit 134),
    which would turn a green run red after the last test has passed."""
    wire_samples_unconfigure(config)
    if _exit_status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
