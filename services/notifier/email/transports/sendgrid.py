"""Sends email through SendGrid's v3 Mail Send API over an injected, keep-alive httpx client."""

from datetime import datetime, timezone
from email.utils import parseaddr, parsedate_to_datetime

import httpx

from services.notifier.email.message import OutgoingEmail, PermanentEmailError, TransientEmailError
from services.notifier.email.transports.addresses import with_ascii_domain

#: SendGrid's custom_args key carrying the job id, visible in its event webhooks and logs.
JOB_ID_ARG = "herald_job_id"

# 408 is a timeout reported by an intermediary, not a verdict on the request.
_TRANSIENT_CLIENT_STATUSES = frozenset({408, 429})


def build_sendgrid_payload(email: OutgoingEmail) -> dict:
    """The JSON body of ``POST /v3/mail/send`` for ``email``: one recipient, text and HTML.

    Built directly rather than through the ``sendgrid`` package's helpers: the request goes
    through our own httpx client, and the body is small and documented, so the helpers only
    added a dependency between the email and its JSON.
    """
    from_name, from_address = parseaddr(email.from_header)
    payload = {
        "personalizations": [{"to": [_address(with_ascii_domain(email.to_address), email.to_name)]}],
        "from": _address(from_address, from_name),
        "subject": email.subject,
        # SendGrid requires text/plain first when both are given.
        "content": [{"type": "text/plain", "value": email.text}, {"type": "text/html", "value": email.html}],
        "custom_args": {JOB_ID_ARG: email.idempotency_key},
    }
    if email.headers:
        payload["headers"] = dict(email.headers)
    return payload


def _address(address: str, name: str) -> dict:
    return {"email": address, "name": name} if name else {"email": address}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header, in either of its forms (RFC 9110 section 10.2.3):
    delta-seconds ("7") or an HTTP-date. ``None`` when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP-dates are always UTC
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _provider_errors(response: httpx.Response) -> str:
    """SendGrid's ``{"errors": [{"message", "field"}]}`` as one line, or the raw body."""
    try:
        errors = response.json().get("errors", [])
        parts = [
            f"{error.get('field')}: {error.get('message')}" if error.get("field") else str(error.get("message"))
            for error in errors
        ]
    except (ValueError, AttributeError):  # not JSON, or JSON of another shape
        parts = []
    return "; ".join(parts) or response.text[:500]


class SendGridSender:
    name = "sendgrid"

    def __init__(self, api_key: str, api_host: str, http_client: httpx.Client) -> None:
        self._url = f"{api_host.rstrip('/')}/v3/mail/send"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        # Owned by the caller, who sets its timeout and shares its connection pool.
        self._http = http_client

    def send(self, email: OutgoingEmail) -> str | None:
        payload = build_sendgrid_payload(email)
        try:
            response = self._http.post(self._url, json=payload, headers=self._headers)
        except httpx.TransportError as exc:  # refused, reset, DNS, any timeout
            raise TransientEmailError(f"SendGrid unreachable: {exc!r}") from exc

        status = response.status_code
        if response.is_success:
            return response.headers.get("X-Message-Id")
        detail = f"SendGrid answered {status}: {_provider_errors(response)}"
        if status >= 500 or status in _TRANSIENT_CLIENT_STATUSES:
            raise TransientEmailError(detail, retry_after=parse_retry_after(response.headers.get("Retry-After")))
        # Other 4xx (and a 3xx, which means SENDGRID_API_HOST points at the wrong place):
        # the same request would be refused again.
        raise PermanentEmailError(detail)

    def close(self) -> None:
        """Nothing to release: the HTTP client belongs to whoever injected it."""
