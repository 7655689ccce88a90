"""The one place notifier's Jinja2 environments are built, over one template tree:
``services/notifier/templates/``, a folder per capability (``signin_alerts/``, ``digests/``,
``notifications/``) and the HTML layout every email shares in ``email/_base.html``.

Templates ship with the code and rendering sits on the path of every email, so each environment
is built once. Undefined variables are errors (StrictUndefined) everywhere.
"""

import jinja2

_PACKAGE = "services.notifier"
_TREE = jinja2.PackageLoader(_PACKAGE, "templates")
_OPTIONS = {"undefined": jinja2.StrictUndefined, "trim_blocks": True, "lstrip_blocks": True}
_HTML = jinja2.Environment(loader=_TREE, autoescape=True, **_OPTIONS)
# Plain text must show what a value holds ("<b>" stays "<b>"), so escaping stays off here.
_TEXT = jinja2.Environment(loader=_TREE, autoescape=False, keep_trailing_newline=True, **_OPTIONS)


def email_templates(name: str) -> tuple[jinja2.Template, jinja2.Template]:
    """``templates/{name}.html`` (escaped) and ``templates/{name}.txt`` (plain), e.g.
    ``digests/digest``: for a capability that sends one kind of email."""
    return _HTML.get_template(f"{name}.html"), _TEXT.get_template(f"{name}.txt")


def folder_loader(folder: str) -> jinja2.BaseLoader:
    """The templates of one capability's folder, by their names there (to list them)."""
    return jinja2.PackageLoader(_PACKAGE, f"templates/{folder}")


def folder_environment(folder: str) -> jinja2.Environment:
    """For a capability with many templates (notifications): names are looked up in its folder
    first (``_layout.html``), then from the tree's root (``email/_base.html``). One environment
    for both kinds: ``.html`` is escaped, plain text shows "<b>" as typed."""
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([folder_loader(folder), _TREE]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        **_OPTIONS,
    )
