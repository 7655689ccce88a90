from pydantic import field_validator

from shared.settings import CommaSeparated, PlatformSettings, comma_separated


class AuthEventsSettings(PlatformSettings):
    auth_events_port: int = 8001
    #: When set, ``POST /v1/events`` needs one of these in ``X-API-Key``.
    ingress_api_keys: CommaSeparated = []
    #: Largest request body ``POST /v1/events`` reads before answering 413.
    max_event_bytes: int = 64 * 1024

    _split_keys = field_validator("ingress_api_keys", mode="before")(comma_separated)

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if not self.ingress_api_keys:
            problems.append("INGRESS_API_KEYS is empty: anyone could post events")
        return problems
