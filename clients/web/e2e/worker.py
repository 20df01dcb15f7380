"""The real worker (`python -m agent ARGS`) for the browser tests, reporting no CPU load.

A LiveKit server does not dispatch jobs to a worker whose reported load is at its limit, and
on a small shared test machine the whole system's CPU use (which the worker reports) often
is. The tests run one job at a time, so this worker reports 0; it is otherwise exactly
`python -m agent`.

    python clients/web/e2e/worker.py start
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from livekit.agents import worker

REPO = Path(__file__).resolve().parents[3]


def _no_load(cls: object, server: object) -> float:
    return 0.0


worker._DefaultLoadCalc.get_load = classmethod(_no_load)  # type: ignore[assignment,method-assign]

if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.argv = ["agent", *sys.argv[1:]]
    runpy.run_module("agent", run_name="__main__", alter_sys=True)
