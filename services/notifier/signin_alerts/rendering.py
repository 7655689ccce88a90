"""Render the sign-in alert command into an email in the user's language and time zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.notifier.email.locale_copy import format_moment, salutation_fields
from services.notifier.email.message import OutgoingEmail
from services.notifier.email.templates import email_templates
from services.notifier.signin_alerts.copy import COPY_BY_LOCALE, SignInAlertCopy
from services.notifier.signin_alerts.user_agent import describe_user_agent
from shared.schemas.notifier import SendSignInAlertV1

_HTML_TEMPLATE, _TEXT_TEMPLATE = email_templates("signin_alerts/alert")

# Brands whose spelling title-casing gets wrong (or that we want spelled exactly).
_PROVIDER_NAMES = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "google": "Google",
    "linkedin": "LinkedIn",
}

_UTC_NAME = "UTC"


def render_signin_alert(
    command: SendSignInAlertV1, *, product_name: str, default_locale: str, from_header: str
) -> OutgoingEmail:
    locale = command.user.locale or default_locale
    copy = COPY_BY_LOCALE.get(locale)
    if copy is None:
        raise ValueError(f"no sign-in alert copy for locale {locale!r}")

    user, context = command.user, command.context
    browser, system = describe_user_agent(context.user_agent)
    details = [
        (copy.email_label, user.email),
        (copy.method_label, display_provider(context.provider)),
        (copy.ip_address_label, str(context.ip_address)),
        (copy.browser_label, browser or copy.unknown),
        (copy.system_label, system or copy.unknown),
        (copy.date_label, format_local_time(command.occurred_at, user.timezone, copy)),
    ]
    subject = copy.subject.format(product=product_name)
    template_context = {
        "locale": locale,
        "subject": subject,
        **salutation_fields(locale, user.name, product_name),
        "intro": copy.intro.format(product=product_name),
        "details_heading": copy.details_heading,
        "details": details,
        "warning": copy.warning,
    }
    return OutgoingEmail(
        to_address=user.email,
        to_name=user.name,
        from_header=from_header,
        subject=subject,
        text=_TEXT_TEMPLATE.render(template_context),
        html=_HTML_TEMPLATE.render(template_context),
        idempotency_key=command.job_id,
    )


def display_provider(provider: str) -> str:
    """``github`` -> ``GitHub``; providers without a known spelling are title-cased."""
    known = _PROVIDER_NAMES.get(provider.lower())
    if known is not None:
        return known
    return provider.replace("_", " ").replace("-", " ").title()


def format_local_time(moment: datetime, zone_name: str | None, copy: SignInAlertCopy) -> str:
    """The moment as the reader's wall clock shows it, naming the zone and its offset so a
    reader abroad is not misled by a time that looks like their own."""
    zone_name = zone_name or _UTC_NAME
    zone = ZoneInfo(zone_name)
    if zone_name == _UTC_NAME:
        zone_label = _UTC_NAME
    else:
        zone_label = f"{zone_name}, {_format_utc_offset(moment.astimezone(zone).utcoffset() or timedelta(0))}"
    return format_moment(moment, zone, copy.date_format, copy.month_names, zone=zone_label)


def _format_utc_offset(offset: timedelta) -> str:
    # strftime("%z") gives "+0800"; "UTC+08:00" is what people read more easily.
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"

