"""The services ``herald`` runs: where each one's composition root is, and which setting is its port."""

import importlib
from dataclasses import dataclass

from shared.settings import PlatformSettings


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    module: str  # has SETTINGS_CLASS and bootstrap(settings)
    port_field: str

    @property
    def port_variable(self) -> str:
        return self.port_field.upper()

    def settings_class(self) -> type[PlatformSettings]:
        return importlib.import_module(self.module).SETTINGS_CLASS

    def port(self, settings: PlatformSettings) -> int:
        return getattr(settings, self.port_field)


CATALOGUE = {
    entry.name: entry
    for entry in (
        ServiceEntry("auth-events", "services.auth_events.bootstrap", "auth_events_port"),
        ServiceEntry("notifier", "services.notifier.bootstrap", "notifier_port"),
        ServiceEntry("scheduler", "services.scheduler.bootstrap", "scheduler_port"),
    )
}
#: Service name -> composition root module, as ``herald run`` takes them.
SERVICES = {name: entry.module for name, entry in CATALOGUE.items()}
