"""Turn a raw User-Agent header into the browser and system a person would recognise."""

from functools import lru_cache

import ua_parser
from ua_parser import Domain

# uap-core still names macOS by its old name; people know it as macOS.
_OS_FAMILY_NAMES = {"Mac OS X": "macOS"}

# ua-parser reports "Other" when a family matched nothing useful.
_UNKNOWN_FAMILY = "Other"


@lru_cache(maxsize=2048)  # a user's UA repeats on every sign-in; parsing is regex-heavy
def describe_user_agent(user_agent: str) -> tuple[str | None, str | None]:
    """Return ``(browser, operating system)``, e.g. ``("Chrome 120", "macOS 14.0")``.

    A part that cannot be identified is ``None``: the caller words "unknown" in the
    reader's language.
    """
    if not user_agent.strip():
        return None, None
    # Only the domains shown: the device's regexes are the most numerous and would double the cost.
    result = ua_parser.parser(user_agent, Domain.USER_AGENT | Domain.OS)
    browser = None
    if result.user_agent is not None and result.user_agent.family != _UNKNOWN_FAMILY:
        browser = _with_version(result.user_agent.family, result.user_agent.major)
    system = None
    if result.os is not None and result.os.family != _UNKNOWN_FAMILY:
        family = _OS_FAMILY_NAMES.get(result.os.family, result.os.family)
        system = _with_version(family, result.os.major, result.os.minor)
    return browser, system


def _with_version(family: str, major: str | None, minor: str | None = None) -> str:
    if not major:
        return family
    if minor:
        return f"{family} {major}.{minor}"
    return f"{family} {major}"
