"""The generated parts of the docs are what their generators write from the code today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_protocol_examples_are_what_a_fresh_run_of_the_plugin_writes() -> None:
    done = subprocess.run(
        [sys.executable, "docs/gen_examples.py", "--check", "docs/protocol-examples.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
