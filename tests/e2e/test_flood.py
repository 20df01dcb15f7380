"""An RPC burst over the real server into an agent in its own process: every call answered
once, and the user answered throughout (`benchmarks/bench_floods_server.py` runs every path
at 10,000 and measures the agent's event loop; timing is not asserted here)."""

from __future__ import annotations

import pytest

from support.faults.flood_server import STRANGER, flood_on_server
from support.faults.rig import USER
from support.livekit_server import ServerInfo

pytestmark = [pytest.mark.livekit_server]


@pytest.mark.parametrize("flooder", [STRANGER, USER])
async def test_an_rpc_burst_is_answered_once_per_call_and_the_user_throughout(
    info: ServerInfo, flooder: str
) -> None:
    result = await flood_on_server(info, "rpc", flooder, 1000, baseline=False)
    assert result.escaped == []
    assert result.answered == result.messages
    assert result.probes_answered == result.probes > 0
    if flooder == STRANGER:
        assert result.probes_ok == result.probes  # a stranger's burst cost the user nothing
