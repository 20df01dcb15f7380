"""A worker serving metrics writes every process's series, its own included, where /metrics
reads them."""

import os
import subprocess
import sys
from pathlib import Path

from agent.prometheus_dir import MULTIPROC_DIR, use_multiprocess_metrics

ROOT = Path(__file__).resolve().parents[2]


def test_start_with_a_metrics_port_gets_a_fresh_directory(tmp_path: Path) -> None:
    environ = {"PROMETHEUS_PORT": "9100"}
    path = use_multiprocess_metrics(["agent", "start"], environ, tmp_path / ".env")
    assert path is not None and environ[MULTIPROC_DIR] == path
    assert os.path.isdir(path) and not os.listdir(path)
    os.rmdir(path)


def test_a_metrics_port_in_dotenv_counts_and_an_empty_one_does_not(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("prometheus_port=9100\n")
    environ = {"PROMETHEUS_PORT": ""}
    path = use_multiprocess_metrics(["agent", "dev"], environ, env_file)
    assert path is not None
    os.rmdir(path)
    env_file.write_text("PROMETHEUS_PORT=\n")
    assert use_multiprocess_metrics(["agent", "start"], {}, env_file) is None


def test_no_directory_without_a_port_outside_the_worker_or_when_one_is_given(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    assert use_multiprocess_metrics(["agent", "start"], {}, env_file) is None
    port = {"PROMETHEUS_PORT": "9100"}
    assert use_multiprocess_metrics(["agent", "console"], dict(port), env_file) is None
    given = {**port, MULTIPROC_DIR: str(tmp_path)}
    assert use_multiprocess_metrics(["agent", "start"], given, env_file) is None
    assert given[MULTIPROC_DIR] == str(tmp_path)


def test_the_worker_writes_no_metric_file_before_it_starts(tmp_path: Path) -> None:
    """The framework empties the directory when the worker starts: a file written before, by
    an unlabelled metric at import, would be deleted while still in use, and what it shares
    (the framework's process start-up histogram) would be lost."""
    code = (
        "from agent.server import build_server\n"
        "from agent.settings import load_settings\n"
        "build_server(load_settings())\n"
    )
    env = {**os.environ, MULTIPROC_DIR: str(tmp_path), "PROMETHEUS_PORT": "9100"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    assert os.listdir(tmp_path) == []
