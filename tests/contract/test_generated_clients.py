"""Clients generated from the committed OpenAPI document compile, unchanged (tests/contract/
clients/): TypeScript types by openapi-typescript, checked by `tsc --noEmit --strict` with what a
client writes (check.ts); a Python client by openapi-python-client, in a virtual environment of
its own (its pins would clash with the dev lock), byte-compiled, imported, and reading every
example of the document with its generated models (check_client.py).

Each test also generates from a broken copy of the document and must see that fail, so that a
check which cannot fail does not pass for one.

The generators come from npm and PyPI at the exact versions of package-lock.json and
requirements.txt beside check.ts. With CI=true a generator that cannot be installed fails the
test; elsewhere it is skipped, saying why. The document does not depend on the database: the
tests run in the SQLite pass of `make test` only."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")),
        reason="ran in the SQLite pass: the document does not depend on the database",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
CLIENTS = Path(__file__).resolve().parent / "clients"
IN_CI = os.environ.get("CI") == "true"
INSTALL_SECONDS = 300
STEP_SECONDS = 120
# What TypeScript clients generate with: without it openapi-typescript makes every property
# that has a default required, request bodies' included (`anonymity`, `role`, `replacement`),
# although the API supplies the default when the property is left out.
OPENAPI_TYPESCRIPT_OPTIONS = ("--default-non-nullable", "false")


def _unavailable(reason: str) -> None:
    """A generator that could not be installed: a failure in CI, a skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the generated-client check must run)")
    pytest.skip(reason)


def _run(command: list[str], *, cwd: Path, timeout: int = STEP_SECONDS, env=None):
    return subprocess.run(  # noqa: S603 - our own commands, no shell
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _output(result: subprocess.CompletedProcess) -> str:
    return (result.stdout + result.stderr)[-4000:]


def _broken(document: dict, tmp_path: Path, name: str, change) -> Path:
    broken = copy.deepcopy(document)
    change(broken["components"]["schemas"])
    path = tmp_path / name
    path.write_text(json.dumps(broken))
    return path


def _dangling_reference(schemas: dict) -> None:
    schemas["ProblemDetail"]["properties"]["board"] = {"$ref": "#/components/schemas/Missing"}


def _without_my_practice_affected(schemas: dict) -> None:
    del schemas["Problem"]["properties"]["my_practice_affected"]
    schemas["Problem"]["required"].remove("my_practice_affected")


# --- TypeScript ---------------------------------------------------------------------------------


def _typescript(tmp_path: Path) -> Path:
    """A directory with openapi-typescript and typescript installed from package-lock.json."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        _unavailable("node and npm are not installed")
    workdir = tmp_path / "typescript"
    workdir.mkdir()
    for name in ("package.json", "package-lock.json", "check.ts"):
        shutil.copy(CLIENTS / name, workdir / name)
    installed = _run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=workdir,
        timeout=INSTALL_SECONDS,
    )
    if installed.returncode != 0:
        _unavailable(f"npm ci could not install the TypeScript generator:\n{_output(installed)}")
    return workdir


def _generate_and_compile(workdir: Path, document: Path) -> tuple[str, subprocess.CompletedProcess]:
    bin_ = workdir / "node_modules" / ".bin"
    generated = _run(
        [
            str(bin_ / "openapi-typescript"),
            str(document),
            "--output",
            "schema.d.ts",
            *OPENAPI_TYPESCRIPT_OPTIONS,
        ],
        cwd=workdir,
    )
    if generated.returncode != 0:
        return "openapi-typescript", generated
    compiled = _run(
        [
            str(bin_ / "tsc"),
            "--noEmit",
            "--strict",
            "--target",
            "es2022",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            "check.ts",
        ],
        cwd=workdir,
    )
    return "tsc", compiled


def test_the_typescript_client_compiles_strictly(tmp_path):
    workdir = _typescript(tmp_path)

    step, result = _generate_and_compile(workdir, DOCUMENT)
    assert result.returncode == 0, f"{step} failed on openapi/openapi.json:\n{_output(result)}"
    assert "my_practice_affected" in (workdir / "schema.d.ts").read_text()

    document = json.loads(DOCUMENT.read_text())
    dangling = _broken(document, tmp_path, "dangling.json", _dangling_reference)
    step, result = _generate_and_compile(workdir, dangling)
    assert (step, result.returncode != 0) == ("openapi-typescript", True), _output(result)
    missing = _broken(document, tmp_path, "missing.json", _without_my_practice_affected)
    step, result = _generate_and_compile(workdir, missing)
    assert step == "tsc" and result.returncode != 0, _output(result)
    assert "my_practice_affected" in result.stdout


# --- Python -------------------------------------------------------------------------------------


def _python_generator(tmp_path: Path) -> Path:
    """The bin directory of a new virtual environment with openapi-python-client installed
    from requirements.txt (hashes required)."""
    venv = tmp_path / "generator"
    created = _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    assert created.returncode == 0, _output(created)
    bin_ = venv / "bin"
    installed = _run(
        [
            str(bin_ / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            str(CLIENTS / "requirements.txt"),
        ],
        cwd=tmp_path,
        timeout=INSTALL_SECONDS,
    )
    if installed.returncode != 0:
        _unavailable(f"pip could not install openapi-python-client:\n{_output(installed)}")
    return bin_


def _generate_python(bin_: Path, document: Path, package: Path) -> subprocess.CompletedProcess:
    # Its post-generation hooks run `ruff`, from the same environment.
    env = {**os.environ, "PATH": f"{bin_}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("VIRTUAL_ENV", None)
    return _run(
        [
            str(bin_ / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(package),
            "--meta",
            "none",
            "--config",
            str(CLIENTS / "openapi-python-client.yaml"),
            "--fail-on-warning",
        ],
        cwd=package.parent,
        env=env,
    )


def test_the_python_client_generates_compiles_and_imports(tmp_path):
    bin_ = _python_generator(tmp_path)
    package = tmp_path / "client" / "commons_client"
    package.parent.mkdir()

    generated = _generate_python(bin_, DOCUMENT, package)
    assert generated.returncode == 0, f"openapi-python-client failed:\n{_output(generated)}"
    compiled = _run([str(bin_ / "python"), "-m", "compileall", "-q", str(package)], cwd=tmp_path)
    assert compiled.returncode == 0, _output(compiled)
    checked = _run(
        [str(bin_ / "python"), str(CLIENTS / "check_client.py"), str(DOCUMENT), str(package)],
        cwd=tmp_path,
    )
    assert checked.returncode == 0, _output(checked)
    assert (package / "api" / "problems" / "list_problems.py").is_file()

    document = json.loads(DOCUMENT.read_text())
    dangling = _broken(document, tmp_path, "dangling.json", _dangling_reference)
    refused = _generate_python(bin_, dangling, tmp_path / "client" / "broken_client")
    assert refused.returncode != 0, _output(refused)
    assert "Could not find reference" in _output(refused)
