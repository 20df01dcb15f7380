"""What ./scripts/console tells the shell it was started from."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hint(home: Path, path: str) -> str:
    done = subprocess.run(
        ["bash", "-c", "source scripts/_bootstrap.sh >/dev/null; uv_path_hint"],
        cwd=ROOT, env={**os.environ, "HOME": str(home), "PATH": path},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stderr


@pytest.fixture
def home_with_uv(tmp_path: Path) -> Path:
    bin_dir = tmp_path / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    uv = bin_dir / "uv"
    uv.write_text("#!/bin/sh\nexit 0\n")  # stands in for uv: the bootstrap only syncs with it
    uv.chmod(0o755)
    return tmp_path


def test_uv_outside_the_callers_path_gets_the_exact_export_line(home_with_uv: Path) -> None:
    hint = _hint(home_with_uv, "/usr/bin:/bin")
    assert 'export PATH="$HOME/.local/bin:$PATH"' in hint


def test_uv_already_on_the_callers_path_gets_no_hint(home_with_uv: Path) -> None:
    assert _hint(home_with_uv, f"{home_with_uv}/.local/bin:/usr/bin:/bin") == ""


def test_the_console_script_gives_the_hint_when_it_ends() -> None:
    script = (ROOT / "scripts" / "console").read_text()
    assert "trap uv_path_hint EXIT" in script
