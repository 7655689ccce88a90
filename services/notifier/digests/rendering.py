"""Render a digest into an email in the recipient's language, with times in the digest's zone."""

from zoneinfo import ZoneInfo

from services.notifier.digests.copy import COPY_BY_LOCALE
from services.notifier.digests.model import DigestItem
from services.notifier.email.locale_copy import format_moment, salutation_fields
from services.notifier.email.message import OutgoingEmail
from services.notifier.email.templates import email_templates
from shared.schemas.scheduler import DigestDueV1

_HTML_TEMPLATE, _TEXT_TEMPLATE = email_templates("digests/digest")


def render_digest(
    digest: DigestDueV1,
    items: list[DigestItem],
    more: int,
    *,
    job_id: str,
    product_name: str,
    default_locale: str,
    from_header: str,
) -> OutgoingEmail:
    """``items`` are listed as given; ``more`` others are summed up as "and N more"."""
    locale = digest.recipient.locale or default_locale
    copy = COPY_BY_LOCALE.get(locale)
    if copy is None:
        raise ValueError(f"no digest copy for locale {locale!r}")
    zone = ZoneInfo(digest.timezone)
    period = copy.period_names[digest.frequency]
    name = digest.recipient.name
    subject = copy.subject.format(product=product_name, period=period)
    context = {
        "locale": locale,
        "subject": subject,
        **salutation_fields(locale, name, product_name),
        "intro": copy.intro.format(count=len(items) + more, period=period),
        "times_note": copy.times_note.format(zone=digest.timezone),
        "items": [
            {
                "title": item.title,
                "body": item.body,
                "time": format_moment(item.created_at, zone, copy.item_time_format, copy.month_names),
            }
            for item in items
        ],
        "more": copy.more.format(count=more) if more else "",
        "footer": copy.footer.format(product=product_name, period=period),
    }
    return OutgoingEmail(
        to_address=digest.recipient.email,
        to_name=name,
        from_header=from_header,
        subject=subject,
        text=_TEXT_TEMPLATE.render(context),
        html=_HTML_TEMPLATE.render(context),
        idempotency_key=job_id,
    )
