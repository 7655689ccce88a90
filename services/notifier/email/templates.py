"""The Jinja2 templates of notifier's emails, loaded once: they ship with the code, and
rendering sits on the path of every email."""

import jinja2

_LOADER = jinja2.PackageLoader("services.notifier", "templates")
_OPTIONS = {"loader": _LOADER, "undefined": jinja2.StrictUndefined, "trim_blocks": True, "lstrip_blocks": True}
_HTML = jinja2.Environment(autoescape=True, **_OPTIONS)
# Plain text must show what a value holds ("<b>" stays "<b>"), so escaping stays off here.
_TEXT = jinja2.Environment(autoescape=False, keep_trailing_newline=True, **_OPTIONS)


def email_templates(name: str) -> tuple[jinja2.Template, jinja2.Template]:
    """``templates/{name}.html`` (escaped) and ``templates/{name}.txt`` (plain)."""
    return _HTML.get_template(f"{name}.html"), _TEXT.get_template(f"{name}.txt")
