"""What every email writes alike in a locale: greeting and sign-off, the month names, and how a
moment reads."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

MONTH_NAMES: dict[str, tuple[str, ...]] = {  # January first
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "mn": (
        "Нэгдүгээр сар",
        "Хоёрдугаар сар",
        "Гуравдугаар сар",
        "Дөрөвдүгээр сар",
        "Тавдугаар сар",
        "Зургаадугаар сар",
        "Долдугаар сар",
        "Наймдугаар сар",
        "Есдүгээр сар",
        "Аравдугаар сар",
        "Арван нэгдүгээр сар",
        "Арван хоёрдугаар сар",
    ),
}

#: A moment on the reader's wall clock, with the fields {year} {month} {month_name} {day} {time}.
DATE_TIME_FORMATS: dict[str, str] = {
    "en": "{day} {month_name} {year}, {time}",
    # Mongolian writes dates year-first with numbered months: "2026 оны 11-р сарын 23".
    "mn": "{year} оны {month}-р сарын {day}, {time}",
}


def format_moment(
    moment: datetime, zone: ZoneInfo, date_format: str, month_names: tuple[str, ...], /, **more_fields: str
) -> str:
    """``moment`` as a wall clock in ``zone`` shows it, written with ``date_format``; a format
    with fields of its own (the sign-in alert's {zone}) gets them from ``more_fields``."""
    # Positional-only, so that a format may have a field called "zone" too.
    local = moment.astimezone(zone)
    return date_format.format(
        year=local.year,
        month=local.month,
        month_name=month_names[local.month - 1],
        day=local.day,
        time=f"{local:%H:%M}",
        **more_fields,
    )


@dataclass(frozen=True)
class Salutation:
    greeting: str  # {name}
    greeting_without_name: str
    sign_off: str
    signature: str  # {product}


SALUTATIONS: dict[str, Salutation] = {
    "en": Salutation(
        greeting="Hello, {name}!", greeting_without_name="Hello!", sign_off="Thanks,", signature="The {product} team"
    ),
    "mn": Salutation(
        greeting="Сайн байна уу, {name}!",
        greeting_without_name="Сайн байна уу!",
        sign_off="Баярлалаа,",
        signature="{product} баг",
    ),
}


def salutation_fields(locale: str, name: str, product: str) -> dict[str, str]:
    """The ``greeting``, ``sign_off`` and ``signature`` a template shows, in ``locale``."""
    words = SALUTATIONS[locale]
    return {
        "greeting": words.greeting.format(name=name) if name else words.greeting_without_name,
        "sign_off": words.sign_off,
        "signature": words.signature.format(product=product),
    }
