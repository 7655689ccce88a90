"""The deployment files agree with the code they deploy.

Dockerfile, docker-compose.yml and .env.example are read as text and data (no Docker engine is
needed): every command they run is a real ``herald`` command, every variable they set is a field
of a Settings class, .env.example lists every setting with its default, and compose wires the
containers to each other in a way the settings accept.
"""

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from services import cli
from services.auth_events.settings import AuthEventsSettings
from services.notifier.settings import NotifierSettings
from services.scheduler.settings import SchedulerSettings
from shared.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"

SETTINGS_CLASSES = [PlatformSettings, AuthEventsSettings, NotifierSettings, SchedulerSettings]
SETTINGS_NAMES = {name.upper() for cls in SETTINGS_CLASSES for name in cls.model_fields}
#: compose service name (= `herald run` argument) -> its Settings class and HTTP port field
SERVICE_SETTINGS = {
    "auth-events": (AuthEventsSettings, "auth_events_port"),
    "notifier": (NotifierSettings, "notifier_port"),
    "scheduler": (SchedulerSettings, "scheduler_port"),
}
BASE_IMAGE = "python:3.11-slim"
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+]([^}]*))?\}")


# --- reading the files --------------------------------------------------------------------------


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def herald_services(compose: dict) -> dict[str, dict]:
    """The services that run the Herald image (their command starts with ``herald``)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if (service.get("command") or [None])[0] == "herald"
    }


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with nothing set: the default (so the test is deterministic)."""
    return INTERPOLATION.sub(lambda m: m.group(2) or "", value)


def env_example_names() -> list[str]:
    names = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        if match:
            names.append(match.group(1))
    return names


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with line continuations joined and comments dropped."""
    instructions, pending = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends inside a line continuation"
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def port_of(url_text: str) -> int:
    match = re.search(r"http://127\.0\.0\.1:(\d+)/healthz", url_text)
    assert match, f"no http://127.0.0.1:PORT/healthz in {url_text!r}"
    return int(match.group(1))


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", str(duration))
    assert match, f"unexpected duration {duration!r}"
    return float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[match.group(2)]


@pytest.fixture
def clean_env(monkeypatch):
    """No Herald setting leaks in from the caller's environment."""
    for name in SETTINGS_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_has_the_infrastructure_and_one_container_per_service():
    services = load_compose()["services"]

    assert services["rabbitmq"]["image"].startswith("rabbitmq:")
    assert services["rabbitmq"]["image"].endswith("-management"), "the management UI is part of the stack"
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["mailpit"]["image"].split(":")[0] == "axllent/mailpit"

    runs = {
        name: service["command"][2]
        for name, service in herald_services(load_compose()).items()
        if service["command"][1] == "run"
    }
    assert sorted(runs.values()) == sorted(cli.SERVICES), "one container per `herald run` service"
    assert all(name == target for name, target in runs.items()), runs
    assert services["migrate"]["command"] == ["herald", "migrate"]


def test_herald_containers_are_built_from_this_repository():
    for name, service in herald_services(load_compose()).items():
        build = service.get("build")
        context = build.get("context") if isinstance(build, dict) else build
        assert context in (".", "./"), f"{name} is not built from the repository's Dockerfile"


def compose_commands() -> list[list[str]]:
    commands = [service["command"] for service in herald_services(load_compose()).values()]
    return sorted(commands)


@pytest.mark.parametrize("command", compose_commands(), ids=" ".join)
def test_each_compose_command_is_a_real_herald_command(command, capsys):
    assert command[0] == "herald"
    with pytest.raises(SystemExit) as exit_:
        cli.main([*command[1:], "--help"])
    assert exit_.value.code == 0, capsys.readouterr().err


def test_an_unknown_command_is_rejected_even_with_help():
    """The check above means something: `--help` does not hide an invalid argument."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "no-such-service", "--help"])
    assert exit_.value.code != 0


def test_the_herald_console_script_is_services_cli_main():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["herald"] == "services.cli:main"


def test_every_variable_compose_sets_for_herald_is_a_setting():
    compose = load_compose()
    named = set()
    for service in herald_services(compose).values():
        named |= set(environment_of(service))
    # ${VAR} interpolations in the file are read from the same .env the services read.
    named |= {match.group(1) for match in INTERPOLATION.finditer(COMPOSE_FILE.read_text(encoding="utf-8"))}
    assert named, "compose sets no Herald variables"
    assert named <= SETTINGS_NAMES, f"not a field of any Settings class: {sorted(named - SETTINGS_NAMES)}"


@pytest.mark.parametrize("service_name", sorted(SERVICE_SETTINGS))
def test_compose_environment_builds_valid_settings_wired_to_the_stack(service_name, clean_env):
    compose = load_compose()
    services = compose["services"]
    service = services[service_name]
    settings_cls, port_field = SERVICE_SETTINGS[service_name]
    env = {key: interpolate(value) for key, value in environment_of(service).items()}
    for key, value in env.items():
        clean_env.setenv(key, value)

    settings = settings_cls(_env_file=None)

    assert settings.herald_env == "development", "compose is a local stack"
    assert settings.http_host == "0.0.0.0", "published ports need the API to listen beyond loopback"

    rabbit = environment_of(services["rabbitmq"])
    user, password = rabbit["RABBITMQ_DEFAULT_USER"], rabbit["RABBITMQ_DEFAULT_PASS"]
    assert settings.amqp_url.startswith(f"amqp://{user}:{password}@rabbitmq:5672/")

    pg = environment_of(services["postgres"])
    assert settings.database_url == (
        f"postgresql+psycopg://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    )

    port = getattr(settings, port_field)
    health_test = " ".join(service["healthcheck"]["test"])
    assert port_of(health_test) == port, "the healthcheck must hit the port the service listens on"
    assert "/healthz" in health_test and "urllib.request" in health_test
    published = [str(mapping).rsplit(":", 1)[-1] for mapping in service["ports"]]
    assert str(port) in published

    depends = service["depends_on"]
    assert depends["rabbitmq"]["condition"] == "service_healthy"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert service["restart"] == "unless-stopped"
    assert seconds(service["stop_grace_period"]) > cli.STOP_GRACE_S, "Docker must not kill a draining service"


def test_notifier_sends_email_to_mailpit(clean_env):
    services = load_compose()["services"]
    for key, value in environment_of(services["notifier"]).items():
        clean_env.setenv(key, interpolate(value))
    settings = NotifierSettings(_env_file=None)
    assert settings.email_transport == "smtp"
    assert settings.smtp_url == "smtp://mailpit:1025"
    assert any(str(mapping).endswith(":1025") for mapping in services["mailpit"]["ports"])


def test_migrate_runs_once_after_postgres_is_healthy():
    migrate = load_compose()["services"]["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"
    assert environment_of(migrate)["DATABASE_URL"].endswith("@postgres:5432/herald")


def test_infrastructure_has_healthchecks_and_volumes():
    compose = load_compose()
    services = compose["services"]
    assert services["rabbitmq"]["healthcheck"]["test"][1:] == ["rabbitmq-diagnostics", "-q", "ping"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    ports = {str(p).split(":")[-1] for p in services["rabbitmq"]["ports"]}
    assert {"5672", "15672"} <= ports
    for name in ("rabbitmq", "postgres"):
        volume = services[name]["volumes"][0].split(":")[0]
        assert volume in compose["volumes"], f"{name} keeps its data in a named volume"


# --- .env.example -------------------------------------------------------------------------------


def test_env_example_names_only_settings_each_once():
    names = env_example_names()
    assert len(names) == len(set(names)), "a variable is listed twice"
    assert set(names) <= SETTINGS_NAMES, f"not a field of any Settings class: {sorted(set(names) - SETTINGS_NAMES)}"


def test_env_example_lists_every_setting():
    missing = SETTINGS_NAMES - set(env_example_names())
    assert not missing, f".env.example does not mention {sorted(missing)}"


@pytest.mark.parametrize("settings_cls", SETTINGS_CLASSES, ids=lambda cls: cls.__name__)
def test_env_example_values_are_the_defaults(settings_cls, clean_env):
    defaults = settings_cls(_env_file=None).model_dump()
    from_example = settings_cls(_env_file=ENV_EXAMPLE).model_dump()
    assert from_example == defaults


def test_env_example_has_a_comment_for_every_variable():
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            assert index > 0 and lines[index - 1].startswith("#"), f"no comment above {line!r}"


# --- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_builds_on_python_slim_and_runs_herald_up_by_default():
    instructions = dockerfile_instructions()
    images = [args.split()[0] for keyword, args in instructions if keyword == "FROM"]
    assert images and all(image == BASE_IMAGE for image in images), images

    final = final_stage(instructions)
    cmd = [args for keyword, args in final if keyword == "CMD"]
    assert cmd, "the final stage has no CMD"
    assert yaml.safe_load(cmd[-1]) == ["herald", "up"], "CMD must be exec form ['herald', 'up']"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["up", "--help"])
    assert exit_.value.code == 0


def test_dockerfile_runs_as_a_non_root_user_in_app():
    final = final_stage(dockerfile_instructions())
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must not run as root"
    workdirs = [args for keyword, args in final if keyword == "WORKDIR"]
    assert workdirs and workdirs[-1] == "/app"


def test_dockerfile_environment():
    env = {}
    for keyword, args in final_stage(dockerfile_instructions()):
        if keyword == "ENV":
            for token in shlex.split(args):
                key, _, value = token.partition("=")
                env[key] = value
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert env.get("HTTP_HOST") == "0.0.0.0"
    assert set(env) - {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PATH"} <= SETTINGS_NAMES


def test_dockerfile_installs_the_package_without_test_extras_or_tests():
    instructions = dockerfile_instructions()
    installs = [args for keyword, args in instructions if keyword == "RUN" and "pip install" in args]
    assert any(re.search(r"pip install (\S+ )*\.(\s|$)", args) for args in installs), installs
    assert not any("[test" in args for args in installs), "test extras do not belong in the image"
    copied = [args for keyword, args in instructions if keyword == "COPY" and "--from" not in args]
    for args in copied:
        sources = args.split()[:-1]
        assert not any(src.strip("./").split("/")[0] in ("tests", "bench", ".venv", "var") for src in sources)


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    entries = {
        line.strip().rstrip("/").removeprefix("**/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", ".git", "tests", "bench", "__pycache__", ".env"} <= entries
