"""The words of the sign-in alert, one frozen set per locale. Placeholders are
``str.format`` fields filled by ``services.notifier.signin_alerts.rendering``."""

from dataclasses import dataclass

from services.notifier.email.locale_copy import DATE_TIME_FORMATS, MONTH_NAMES


@dataclass(frozen=True)
class SignInAlertCopy:
    subject: str  # {product}
    intro: str  # {product}
    details_heading: str
    email_label: str
    method_label: str
    ip_address_label: str
    browser_label: str
    system_label: str
    date_label: str
    unknown: str
    warning: str
    #: {year} {month} {month_name} {day} {time} {zone}
    date_format: str
    month_names: tuple[str, ...]  # January first


EN = SignInAlertCopy(
    subject="🔐 New sign-in to your {product} account",
    intro="You signed in to your {product} account.",
    details_heading="Sign-in details:",
    email_label="Email",
    method_label="Sign-in method",
    ip_address_label="IP address",
    browser_label="Browser",
    system_label="System",
    date_label="Date",
    unknown="Unknown",
    warning="If this wasn't you, contact us immediately.",
    date_format=DATE_TIME_FORMATS["en"] + " ({zone})",
    month_names=MONTH_NAMES["en"],
)

MN = SignInAlertCopy(
    subject="🔐 Таны бүртгэлд нэвтэрсэн байна - {product}",
    intro="Таны {product} бүртгэлд амжилттай нэвтэрсэн байна.",
    details_heading="Нэвтрэлтийн мэдээлэл:",
    email_label="Имэйл",
    method_label="Нэвтрэх арга",
    ip_address_label="IP хаяг",
    browser_label="Хөтөч",
    system_label="Систем",
    date_label="Огноо",
    unknown="Тодорхойгүй",
    warning="Хэрэв та энэ нэвтрэлтийг хийгээгүй бол нэн даруй бидэнтэй холбогдоно уу.",
    date_format=DATE_TIME_FORMATS["mn"] + " ({zone})",
    month_names=MONTH_NAMES["mn"],
)

COPY_BY_LOCALE: dict[str, SignInAlertCopy] = {"en": EN, "mn": MN}
