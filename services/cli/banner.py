"""The one banner ``herald up`` prints once every service answers ready: where things are."""

import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from services.cli.catalogue import CATALOGUE
from services.notifier.settings import NotifierSettings
from shared.settings import PlatformSettings

#: Listening on every interface: a browser on this machine reaches it at the loopback address.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}


def base_url(settings: PlatformSettings, service: str) -> str:
    host = settings.http_host
    host = _ANY_ADDRESS.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{host}:{CATALOGUE[service].port(settings)}"


def banner(settings: dict[str, PlatformSettings]) -> Panel:
    table = Table.grid(padding=(0, 2))
    for service, service_settings in settings.items():
        url = base_url(service_settings, service)
        table.add_row(service, url, f"API docs: {url}/docs")
    notifier = settings.get("notifier")
    lines = []
    if isinstance(notifier, NotifierSettings):
        if notifier.email_transport == "outbox":
            lines.append(f"Emails are written to {Path(notifier.outbox_dir).resolve()} (EMAIL_TRANSPORT=outbox)")
        else:
            lines.append(f"Emails go out through EMAIL_TRANSPORT={notifier.email_transport}")
    lines.append("Press Ctrl-C to stop every service.")
    grid = Table.grid()
    grid.add_row(table)
    for line in ["", *lines]:
        grid.add_row(line)
    return Panel(grid, title="Herald is up", title_align="left", expand=False)


def announce_when_ready(
    settings: dict[str, PlatformSettings], still_wanted: Callable[[], bool], console: Console | None = None
) -> None:
    """Wait until every service's /readyz answers 200, then print the banner (once)."""
    urls = [f"{base_url(service_settings, service)}/readyz" for service, service_settings in settings.items()]
    while still_wanted():
        if all(_ready(url) for url in urls):
            (console or Console()).print(banner(settings))
            return
        time.sleep(0.5)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
