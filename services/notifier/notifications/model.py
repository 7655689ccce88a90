"""notifications' plain data, shared by its rendering (which makes it) and its store (which keeps it)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedNotification:
    template: str
    locale: str
    title: str
    #: Plain text: the in-app body.
    body: str
    #: The whole plain-text email, and its HTML twin.
    text: str
    html: str
