"""The production deployment files: docker-compose.yml and the Dockerfile.

Docker is not needed: the compose file is checked against the official Compose Specification
schema (vendored beside this file, see compose-spec.SOURCE) and against what the app needs to
start, and the Dockerfile is read instruction by instruction.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from network.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")

SERVICES = (
    "postgres",
    "redis",
    "migrate",
    "api",
    "worker",
    "digest-worker",
    "scheduler",
    "mailpit",
)
LONG_RUNNING = ("postgres", "redis", "api", "worker", "digest-worker", "scheduler", "mailpit")
# Workers by workload: between them, every named queue is worked.
WORKERS = ("worker", "digest-worker")
# The app's configuration as the README (and DESIGN.md, "Parts and how they start") documents it.
DOCUMENTED_APP_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "MAIL_URL",
    "MAIL_FROM",
    "API_URL",
    "PUBLIC_URL",
    "SIGNING_KEY_FILE",
    "SECRET_KEY",
    "CORS_ORIGINS",
)


# --- reading the files ----------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service(name: str) -> dict[str, Any]:
    services = load_compose().get("services") or {}
    assert name in services, f"docker-compose.yml has no service {name!r}"
    return services[name]


def environment(svc: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two spec forms it is written in."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def argv(command: str | list[str] | None) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?message}` and `$$`, as `up` would see them."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        if op in (":-", "-") and (current is None or (op == ":-" and current == "")):
            return arg
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise LookupError(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(replace, value)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "the Dockerfile has no FROM"
    return instructions[starts[-1] :]


def exec_form(arguments: str) -> list[str]:
    """The JSON (exec) form of CMD/ENTRYPOINT, which needs no shell and receives signals."""
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        pytest.fail(f"expected the exec (JSON array) form, got: {arguments}")
    assert isinstance(value, list), arguments
    return value


def gunicorn_bind_port(command: list[str]) -> int:
    for i, arg in enumerate(command):
        if arg in ("-b", "--bind") and i + 1 < len(command):
            return int(command[i + 1].rsplit(":", 1)[1])
        if arg.startswith("--bind="):
            return int(arg.rsplit(":", 1)[1])
    pytest.fail(f"gunicorn is not given --bind: {command}")


# --- the compose file -----------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification():
    schema = json.loads(SCHEMA_FILE.read_text())
    cls = validator_for(schema)
    cls.check_schema(schema)
    errors = list(cls(schema).iter_errors(load_compose()))
    if errors:
        worst = best_match(errors)
        listing = "\n".join(f"  {e.json_path}: {e.message}" for e in errors)
        pytest.fail(
            f"docker-compose.yml does not match the Compose Specification: "
            f"{worst.json_path}: {worst.message}\nall errors:\n{listing}"
        )


def test_the_vendored_schema_is_the_compose_specification():
    schema = json.loads(SCHEMA_FILE.read_text())
    assert "$schema" in schema
    assert schema.get("title") == "Compose Specification"
    assert "services" in schema["properties"]


def test_compose_defines_the_database_queue_migration_api_and_mail_services():
    services = load_compose().get("services") or {}
    missing = [name for name in SERVICES if name not in services]
    assert not missing, f"missing services: {missing}"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck_and_restarts(name):
    svc = service(name)
    healthcheck = svc.get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} has no healthcheck test"
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
    assert svc.get("restart") in ("always", "unless-stopped"), f"{name} is not restarted"


def test_migrate_is_a_one_shot_that_upgrades_the_schema_and_creates_the_signing_key():
    migrate = service("migrate")
    assert migrate.get("restart") == "no"
    script = " ".join(argv(migrate.get("command")))
    assert "commons db upgrade" in script
    assert "commons keys rotate" in script
    # Only when the file is missing: rotating at every start would retire keys on each deploy.
    assert "SIGNING_KEY_FILE" in script
    assert "-f" in script


def test_api_waits_for_healthy_postgres_and_redis_and_a_completed_migration():
    depends_on = service("api").get("depends_on")
    assert isinstance(depends_on, dict), "api.depends_on must give conditions"
    conditions = {name: (spec or {}).get("condition") for name, spec in depends_on.items()}
    assert conditions.get("postgres") == "service_healthy"
    assert conditions.get("redis") == "service_healthy"
    assert conditions.get("migrate") == "service_completed_successfully"


def test_migrate_waits_for_a_healthy_postgres():
    depends_on = service("migrate").get("depends_on") or {}
    assert (depends_on.get("postgres") or {}).get("condition") == "service_healthy"


def test_api_healthcheck_asks_the_readiness_probe_without_curl():
    test = argv(service("api")["healthcheck"]["test"])
    joined = " ".join(test)
    assert "curl" not in test, "the slim image has no curl"
    assert "urllib" in joined
    assert "http://127.0.0.1:8000/readyz" in joined


def test_api_serves_the_wsgi_app_with_gunicorn_on_the_published_port():
    api = service("api")
    command = argv(api.get("command")) or exec_form(
        next(args for keyword, args in final_stage() if keyword == "CMD")
    )
    assert command[0] == "gunicorn"
    assert command[-1] == "api.wsgi:app"
    port = gunicorn_bind_port(command)
    targets = [str(p).rsplit(":", 1)[-1] for p in api.get("ports") or []]
    assert str(port) in targets, f"gunicorn binds {port}, ports publish {targets}"


@pytest.mark.parametrize("variable", DOCUMENTED_APP_VARIABLES)
def test_api_sets_every_documented_configuration_variable(variable):
    assert variable in environment(service("api"))


def test_migrate_is_configured_like_the_api():
    api, migrate = environment(service("api")), environment(service("migrate"))
    assert migrate == api
    assert service("migrate").get("image") == service("api").get("image")


def test_secret_key_is_required_rather_than_defaulted():
    secret = environment(service("api"))["SECRET_KEY"]
    with pytest.raises(LookupError):
        interpolate(secret, {})
    assert interpolate(secret, {"SECRET_KEY": "from-the-operator"}) == "from-the-operator"


def test_the_api_environment_configures_the_production_backends():
    raw = environment(service("api"))
    env = {key: interpolate(value, {"SECRET_KEY": "s3cret"}) for key, value in raw.items()}
    settings = Settings.from_env(env)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert "@postgres:" in settings.database_url
    assert settings.redis_url and settings.redis_url.startswith("redis://redis:")
    assert settings.mail_url and settings.mail_url.startswith("smtp://mailpit:")
    assert settings.secret_key == "s3cret"
    # Outside instance/ the API never generates a key: migrate must create it, on a volume.
    assert settings.signing_key_file.parent != settings.instance_path


@pytest.mark.parametrize("name", ["migrate", "api"])
def test_the_signing_key_file_is_on_a_named_volume_shared_by_migrate_and_api(name):
    compose = load_compose()
    key_dir = str(Path(environment(service("api"))["SIGNING_KEY_FILE"]).parent)
    mounts = {}
    for volume in service(name).get("volumes") or []:
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source"), volume.get("target")
        mounts[target] = source
    assert key_dir in mounts, f"{name} does not mount {key_dir}"
    assert mounts[key_dir] in (compose.get("volumes") or {}), "not a named volume"


def test_the_databases_keep_their_data_on_named_volumes_and_redis_appends():
    named = load_compose().get("volumes") or {}
    for name in ("postgres", "redis"):
        sources = [str(v).split(":")[0] for v in service(name).get("volumes") or []]
        assert any(source in named for source in sources), f"{name} has no named volume"
    assert "--appendonly yes" in " ".join(argv(service("redis").get("command")))


# --- the Dockerfile -------------------------------------------------------------------------


def test_image_runs_the_wsgi_app_with_gunicorn_on_port_8000():
    stage = final_stage()
    cmds = [args for keyword, args in stage if keyword == "CMD"]
    assert cmds, "the final stage has no CMD"
    command = exec_form(cmds[-1])
    assert command[0] == "gunicorn"
    assert command[-1] == "api.wsgi:app"
    assert gunicorn_bind_port(command) == 8000
    # The API's own gunicorn settings, as compose and the benchmark use them.
    assert command[command.index("--config") + 1] == "python:api.gunicorn_conf"
    exposed = " ".join(args for keyword, args in stage if keyword == "EXPOSE").split()
    assert "8000" in exposed


def test_image_installs_dependencies_only_from_the_hash_checked_lock():
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    installs = [r for r in runs if "pip install" in r]
    assert any("--require-hashes" in r and "-r requirements.lock" in r for r in installs), installs
    # Everything else pip installs must not pull unpinned dependencies.
    for run in installs:
        if "requirements.lock" not in run:
            assert "--no-deps" in run, f"installs without the lock: {run}"


def test_image_is_built_on_python_3_11_slim():
    bases = [args.split()[0] for keyword, args in dockerfile_instructions() if keyword == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases), bases


def test_image_runs_as_a_non_root_user():
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "the final stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


# --- workers by workload and the scheduler ----------------------------------------------------


def _queues_of(name: str) -> list[str]:
    args = argv(service(name).get("command"))
    assert args[:2] == ["commons", "worker"], f"{name} does not run `commons worker`"
    return [args[i + 1] for i, a in enumerate(args) if a == "--queue"]


def test_the_workers_between_them_work_every_named_queue_each_once():
    from dispatch.queues import QUEUES

    worked = [q for name in WORKERS for q in _queues_of(name)]
    assert sorted(worked) == sorted(QUEUES), worked


@pytest.mark.parametrize("name", (*WORKERS, "scheduler"))
def test_workers_and_the_scheduler_scale_and_start_after_the_migration(name):
    svc = service(name)
    # `--scale` refuses a fixed container name or a published port.
    assert "container_name" not in svc and not svc.get("ports")
    conditions = {k: (v or {}).get("condition") for k, v in svc["depends_on"].items()}
    assert conditions == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    assert environment(svc) == environment(service("api"))


def test_the_scheduler_runs_rq_cron_through_commons():
    assert argv(service("scheduler").get("command")) == ["commons", "scheduler"]


@pytest.mark.parametrize("name", (*WORKERS, "scheduler"))
def test_worker_and_scheduler_health_checks_are_real_commands(name):
    from click.testing import CliRunner

    from workers.cli import jobs

    test = argv(service(name)["healthcheck"]["test"])
    assert test[:4] == ["CMD", "commons", "jobs", "alive"], test
    what = test[4]
    assert what == ("scheduler" if name == "scheduler" else "worker")
    # The command exists and takes that argument (it fails here: no REDIS_URL, no worker).
    result = CliRunner().invoke(jobs, ["alive", "--help"])
    assert result.exit_code == 0 and what in result.output
