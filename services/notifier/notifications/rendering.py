"""Notification templates: a request names one and gives its data; this renders it in a locale.

Each template is two files per locale under ``templates/notifications/``:

- ``{name}.{locale}.txt``: plain-text blocks ``title``, ``body`` and, for a call to action,
  ``action_url`` and ``action_label``. Title and body are what the in-app inbox shows; the
  plain-text email puts them inside ``_email.txt``.
- ``{name}.{locale}.html``: block ``content`` inside ``_layout.html`` (which extends the
  ``email/_base.html`` every email shares), the HTML email (escaped).

The request's data are the templates' variables; ``product`` and ``recipient_name`` are Herald's
own and win over data of the same name. Undefined variables are errors (StrictUndefined), so a
request missing data is refused at intake rather than rendered with holes.
"""

from datetime import date
from urllib.parse import urlsplit

import jinja2

from services.notifier.email.locale_copy import MONTH_NAMES, salutation_fields
from services.notifier.email.templates import folder_environment, folder_loader
from services.notifier.notifications.model import RenderedNotification
from shared.errors import PermanentError

LOCALES = ("en", "mn")
TEMPLATE_FOLDER = "notifications"
#: The title column's width; longer titles are cut (the body keeps everything).
MAX_TITLE_CHARS = 300


class UnknownTemplate(PermanentError):
    pass


class TemplateDataError(PermanentError):
    """The data cannot fill the template: a variable is missing or has an unusable value."""


#: The last line of every notification email, by locale ({product}).
FOOTERS = {
    "en": "You received this email because of your notification settings in {product}.",
    "mn": "Та {product} дахь мэдэгдлийн тохиргооныхоо дагуу энэ имэйлийг хүлээн авлаа.",
}


def http_url(value: object) -> str:
    """A link a reader may safely follow: only http(s), so data cannot smuggle ``javascript:``."""
    text = str(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TemplateDataError(f"{text[:100]!r} is not an http(s) URL")
    return text


class NotificationTemplates:
    """The registry: every template found under ``templates/notifications``, rendered on demand."""

    def __init__(self, *, product_name: str, default_locale: str) -> None:
        self._product_name = product_name
        self._default_locale = default_locale
        self._environment = folder_environment(TEMPLATE_FOLDER)
        self._environment.filters["http_url"] = http_url
        self._environment.filters["date"] = local_date
        self._email_text = self._environment.get_template("_email.txt")
        self.names = frozenset(
            name.split(".", 1)[0]
            for name in folder_loader(TEMPLATE_FOLDER).list_templates()
            if name.endswith(".txt") and not name.startswith("_")
        )

    def locale_for(self, requested: str | None) -> str:
        return requested or self._default_locale

    def render(self, template: str, data: dict, *, locale: str | None, recipient_name: str = "") -> RenderedNotification:
        """Render ``template`` with ``data``; raise UnknownTemplate or TemplateDataError."""
        if template not in self.names:
            raise UnknownTemplate(f"unknown template {template!r}; known: {', '.join(sorted(self.names))}")
        locale = self.locale_for(locale)
        variables = {
            **data,
            "product": self._product_name,
            "recipient_name": recipient_name,
            **salutation_fields(locale, recipient_name, self._product_name),
            "footer": FOOTERS[locale].format(product=self._product_name),
            "locale": locale,
        }
        blocks = self._environment.get_template(f"{template}.{locale}.txt")
        try:
            title = _one_line(_render_block(blocks, "title", variables))
            if not title:
                raise TemplateDataError(f"template {template!r} rendered an empty title")
            body = _render_block(blocks, "body", variables).strip()
            action_url = _render_block(blocks, "action_url", variables).strip() if "action_url" in blocks.blocks else ""
            action_label = _render_block(blocks, "action_label", variables).strip() if action_url else ""
            email_variables = {**variables, "title": title, "body": body, "action_url": action_url, "action_label": action_label}
            text = self._email_text.render(email_variables).strip() + "\n"
            html = self._environment.get_template(f"{template}.{locale}.html").render(email_variables)
        except jinja2.UndefinedError as error:
            raise TemplateDataError(f"template {template!r} needs data: {error.message}") from None
        return RenderedNotification(template, locale, title, body, text, html)


def _render_block(template: jinja2.Template, block: str, variables: dict) -> str:
    context = template.new_context(variables)
    return "".join(template.blocks[block](context))


def _one_line(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


@jinja2.pass_context
def local_date(context: jinja2.runtime.Context, value: object) -> str:
    """An ISO date (``2026-12-01``) as the reader writes it; anything else as given."""
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    if context["locale"] == "mn":
        # Year first, numbered months: "2026 оны 12-р сарын 1".
        return f"{day.year} оны {day.month}-р сарын {day.day}"
    return f"{day.day} {MONTH_NAMES['en'][day.month - 1]} {day.year}"
