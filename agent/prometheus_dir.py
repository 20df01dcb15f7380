"""Prometheus multiprocess mode, chosen before anything imports `prometheus_client`.

`prometheus_client` decides once, when it is imported, whether metric values live in memory
or in files under PROMETHEUS_MULTIPROC_DIR; the framework's `/metrics` reads only those files
once the variable is set. The framework sets it when the worker starts, after the import, so
the worker process's own series (active jobs, load, child processes, process start-up) stayed
in memory and never reached `/metrics`. Set here first, every process writes files.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

from dotenv import dotenv_values

SERVER_COMMANDS = ("start", "dev", "connect")
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prometheus_port_given(environ: Mapping[str, str], env_file: Path) -> bool:
    """PROMETHEUS_PORT as the settings read it: from the environment or `.env`, in any case,
    an empty value being unset."""
    sources: list[Mapping[str, str | None]] = [environ]
    if env_file.is_file():
        sources.append(dotenv_values(env_file))
    return any(
        key.upper() == "PROMETHEUS_PORT" and (value or "").strip()
        for source in sources
        for key, value in source.items()
    )


def use_multiprocess_metrics(
    argv: Sequence[str],
    environ: MutableMapping[str, str] = os.environ,
    env_file: Path = Path(".env"),
) -> str | None:
    """For a worker serving metrics, a fresh directory in PROMETHEUS_MULTIPROC_DIR, removed
    at exit; one given in the environment is used as it is (the framework empties it)."""
    command = argv[1] if len(argv) > 1 else ""
    if command not in SERVER_COMMANDS or environ.get(MULTIPROC_DIR):
        return None
    if not prometheus_port_given(environ, env_file):
        return None
    path = tempfile.mkdtemp(prefix="session-sync-metrics-")
    environ[MULTIPROC_DIR] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
