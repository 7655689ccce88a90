"""What ``herald up`` checks before it starts any service, so that every problem is found at once
and told in one line each: every service's settings, the email transport, the ports, and
(when the settings allow looking) the database and RabbitMQ."""

import errno
import socket
from dataclasses import dataclass, field

from services.cli.catalogue import CATALOGUE
from services.notifier.settings import NotifierSettings
from shared.settings import InvalidSettings, PlatformSettings, load_settings


@dataclass
class Preflight:
    #: The settings of each service whose settings are valid.
    settings: dict[str, PlatformSettings] = field(default_factory=dict)
    #: Bad settings (exit code 2), then what else would keep a service from starting.
    settings_problems: list[str] = field(default_factory=list)
    other_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return _unique(self.settings_problems + self.other_problems)

    @property
    def exit_code(self) -> int:
        return 2 if self.settings_problems else 1


def check_settings_and_ports() -> Preflight:
    result = Preflight()
    for name, entry in CATALOGUE.items():
        try:
            result.settings[name] = load_settings(entry.settings_class())
        except InvalidSettings as error:
            result.settings_problems += error.problems
    notifier = result.settings.get("notifier")
    if isinstance(notifier, NotifierSettings):
        result.settings_problems += notifier.transport_problems()
    result.other_problems += port_problems(result.settings)
    return result


def port_problems(settings: dict[str, PlatformSettings]) -> list[str]:
    """Ports two services share, and ports something else listens on already."""
    problems = []
    taken_by: dict[tuple[str, int], str] = {}
    for name, service_settings in settings.items():
        entry = CATALOGUE[name]
        address = (service_settings.http_host, entry.port(service_settings))
        variable = f"{entry.port_variable}={address[1]}"
        if address in taken_by:
            problems.append(f"{variable} is also {taken_by[address]}: each service needs a port of its own")
            continue
        taken_by[address] = entry.port_variable
        reason = _cannot_listen(*address)
        if reason:
            problems.append(f"{variable}: cannot listen on {_host_port(*address)}: {reason}")
    return problems


def _cannot_listen(host: str, port: int) -> str | None:
    """Why a server could not listen on host:port now (None: it could), by trying as uvicorn does."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        return f"HTTP_HOST={host} is not an address of this machine"
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return "the port is already in use (another Herald, or another program?)"
            if error.errno == errno.EADDRNOTAVAIL:
                return f"HTTP_HOST={host} is not an address of this machine"
            return error.strerror or str(error)
    return None


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _unique(lines: list[str]) -> list[str]:
    """Several services share the platform's settings: say each problem once."""
    return list(dict.fromkeys(lines))
