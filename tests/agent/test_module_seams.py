"""How the worker's modules depend on each other: no cycles, and the console out of production."""

import ast
import subprocess
import sys
from pathlib import Path

AGENT = Path(__file__).resolve().parents[2] / "agent"
CONSOLE_MODULES = {"console", "console_commands", "console_mic"}


def _imported_agent_modules(path: Path) -> set[str]:
    """The `agent` modules a file imports anywhere in it, inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found.update([node.module] if node.module else [alias.name for alias in node.names])
            elif node.module and node.module.startswith("agent."):
                found.add(node.module.removeprefix("agent."))
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.removeprefix("agent.")
                for alias in node.names
                if alias.name.startswith("agent.")
            )
    return {name.split(".")[0] for name in found}


def _graph() -> dict[str, set[str]]:
    return {path.stem: _imported_agent_modules(path) for path in AGENT.glob("*.py")}


def test_agent_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, f"import cycle: {' -> '.join([*path, module])}"
        if module in done:
            return
        for imported in sorted(graph.get(module, set())):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_only_the_command_line_reaches_the_console() -> None:
    importers = {
        module
        for module, imported in _graph().items()
        if imported & CONSOLE_MODULES and module not in CONSOLE_MODULES
    }
    assert importers == {"__main__"}


def test_the_worker_loads_neither_the_console_nor_the_plugins_test_doubles() -> None:
    probe = (
        "import sys, agent.server\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('agent.console')"
        " or m.startswith('livekit.plugins.session_sync.testing'))\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=AGENT.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == ""
