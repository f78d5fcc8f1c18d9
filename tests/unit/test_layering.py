"""The layers of DESIGN.md: the domain never imports the HTTP layer, the workers, Flask or RQ;
the API and the workers meet in `dispatch/`, never in each other; what every feature reads
(activity) imports no feature; and no module reaches into another module's private names."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NETWORK = ROOT / "network"
FORBIDDEN = ("flask", "flask_smorest", "rq", "api", "workers", "werkzeug", "dispatch")
# The feature packages of network/ whose content has activity (organisations and people are
# the ground every feature and `access` stand on).
FEATURES = ("problems", "workstreams", "library", "digests", "signin", "audit")


def _imports(path: Path):
    """(module, names) for every absolute import in a file, at any depth (deferred ones too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, tuple(alias.name for alias in node.names)


def _offenders(top: Path, forbidden) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in top.rglob("*.py")
        for name, _ in _imports(path)
        if forbidden(name)
    ]


def test_network_imports_no_flask_rq_api_or_workers():
    assert _offenders(NETWORK, lambda name: name.split(".")[0] in FORBIDDEN) == []


def test_api_and_workers_do_not_import_each_other():
    assert _offenders(ROOT / "api", lambda name: name.split(".")[0] == "workers") == []
    assert _offenders(ROOT / "workers", lambda name: name.split(".")[0] == "api") == []
    assert (
        _offenders(ROOT / "dispatch", lambda name: name.split(".")[0] in ("api", "workers")) == []
    )


def test_activity_imports_no_feature():
    """The feed asks `access` what still shows; features register their rules there."""
    features = tuple(f"network.{feature}" for feature in FEATURES)
    assert _offenders(NETWORK / "activity", lambda name: name.startswith(features)) == []


def test_no_module_imports_another_modules_private_names():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name} from {module}"
        for top in ("network", "api", "workers", "dispatch")
        for path in (ROOT / top).rglob("*.py")
        for module, names in _imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert offenders == []
