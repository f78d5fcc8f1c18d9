"""The domain layer never imports the HTTP layer, the workers, Flask or RQ (DESIGN.md)."""

import ast
from pathlib import Path

NETWORK = Path(__file__).resolve().parents[2] / "network"
FORBIDDEN = ("flask", "flask_smorest", "rq", "api", "workers", "werkzeug")


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_network_imports_no_flask_rq_api_or_workers():
    offenders = [
        f"{path.relative_to(NETWORK.parent)} imports {name}"
        for path in NETWORK.rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []
