"""The words of the digest email, one frozen set per locale. Placeholders are ``str.format``
fields filled by ``services.notifier.digests.rendering``."""

from dataclasses import dataclass

from services.notifier.email.locale_copy import DATE_TIME_FORMATS, MONTH_NAMES


@dataclass(frozen=True)
class DigestCopy:
    subject: str  # {product} {period}
    #: The period word that goes into the subject and intro, by frequency.
    period_names: dict[str, str]
    intro: str  # {count} {period}
    times_note: str  # {zone}
    more: str  # {count}
    footer: str  # {product} {period}
    #: One item's time: {year} {month} {month_name} {day} {time}
    item_time_format: str
    month_names: tuple[str, ...]  # January first


EN = DigestCopy(
    subject="📬 Your {period} digest from {product}",
    period_names={"daily": "daily", "weekly": "weekly", "monthly": "monthly"},
    intro="Here is what happened since your last digest ({count}):",
    times_note="Times are shown in {zone}.",
    more="…and {count} more.",
    footer="You receive this email because you subscribed to a {period} digest from {product}.",
    item_time_format=DATE_TIME_FORMATS["en"],
    month_names=MONTH_NAMES["en"],
)

MN = DigestCopy(
    subject="📬 Таны {period} тойм - {product}",
    period_names={"daily": "өдрийн", "weekly": "долоо хоногийн", "monthly": "сарын"},
    intro="Өмнөх тоймоос хойш танд ирсэн мэдэгдлүүд ({count}):",
    times_note="Цагийг {zone} цагийн бүсээр харуулав.",
    more="…болон өөр {count} мэдэгдэл.",
    # "{product} дахь" ("in {product}") needs no case ending on the name: a genitive suffix
    # depends on the name's last sound (Herald-ын, Мэдээ-ний), which the copy cannot know.
    footer="Та {product} дахь {period} тоймд бүртгүүлсэн тул энэ имэйлийг хүлээн авлаа.",
    item_time_format=DATE_TIME_FORMATS["mn"],
    month_names=MONTH_NAMES["mn"],
)

COPY_BY_LOCALE: dict[str, DigestCopy] = {"en": EN, "mn": MN}
