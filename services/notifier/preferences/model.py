"""What a user lets through: a plain value, and the rules that read it.

Mute silences everything; an opt-out silences one channel of one category. Security
notifications ignore both: a user cannot turn off being told that someone used their account.
"""

from dataclasses import dataclass

from pydantic import Field, field_validator

from shared.schemas.base import SECURITY_CATEGORY, Category, Message
from shared.schemas.notifications import Channel

#: More opt-outs than anyone sets by hand; the bound keeps a stored row small.
MAX_OPT_OUTS = 200


@dataclass(frozen=True)
class Preferences:
    muted: bool = False
    #: ``(category, channel)`` pairs the user does not want.
    opt_outs: frozenset[tuple[str, str]] = frozenset()

    def allows(self, category: str, channel: str) -> bool:
        if category == SECURITY_CATEGORY:
            return True
        return not self.muted and (category, channel) not in self.opt_outs


#: A user who never said anything gets everything.
DEFAULT_PREFERENCES = Preferences()


class OptOut(Message):
    category: Category
    channel: Channel

    @field_validator("category")
    @classmethod
    def _not_security(cls, category: str) -> str:
        if category == SECURITY_CATEGORY:
            raise ValueError("security notifications cannot be opted out of")
        return category


class PreferencesBody(Message):
    """The body of ``PUT /v1/users/{user_id}/preferences``: the whole of a user's preferences."""

    muted: bool
    opt_outs: list[OptOut] = Field(default_factory=list, max_length=MAX_OPT_OUTS)

    def to_preferences(self) -> Preferences:
        return Preferences(muted=self.muted, opt_outs=frozenset((o.category, o.channel) for o in self.opt_outs))

