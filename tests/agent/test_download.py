"""`download-files` without a network says so in one line, instead of a minute of retries."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from agent.download import hub_unreachable
from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def test_a_hub_that_refuses_connections_is_out_of_reach_with_the_reason() -> None:
    reason = hub_unreachable(f"http://127.0.0.1:{_closed_port()}")
    assert reason is not None and "refused" in reason.lower()


def test_download_files_out_of_reach_of_the_hub_prints_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() not in Settings.env_names()}
    env.update(
        TURN_DETECTOR="english",
        HF_HOME=str(tmp_path / "hf"),  # no model file on this machine
        HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}",
    )
    env.pop("HF_HUB_OFFLINE", None)
    done = subprocess.run(
        [sys.executable, "-m", "agent", "download-files"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2
    assert len(lines) == 1, "\n".join(lines)
    assert "cannot reach" in lines[0] and "not on this machine" in lines[0]
