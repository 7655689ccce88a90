"""The sign-in alert email: words per locale, local time, user agent, escaping."""

import re
from datetime import datetime, timezone
from typing import Any

import pytest

from services.notifier.email.message import OutgoingEmail
from services.notifier.signin_alerts.rendering import display_provider, render_signin_alert
from services.notifier.signin_alerts.user_agent import describe_user_agent
from shared.schemas.notifier import SendSignInAlertV1

CHROME_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
)
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def make_command(
    *,
    locale: str | None = "en",
    timezone_name: str | None = "Asia/Ulaanbaatar",
    name: str = "Bat",
    user_agent: str = CHROME_ON_MAC,
    provider: str = "github",
    occurred_at: datetime = datetime(2026, 11, 23, 8, 15, tzinfo=timezone.utc),
) -> SendSignInAlertV1:
    user: dict[str, Any] = {"id": "user-1", "email": "bat@example.com", "name": name}
    if locale is not None:
        user["locale"] = locale
    if timezone_name is not None:
        user["timezone"] = timezone_name
    return SendSignInAlertV1(
        job_id="job-123",
        event_id="event-456",
        occurred_at=occurred_at,
        user=user,
        context={"provider": provider, "ip_address": "203.0.113.7", "user_agent": user_agent},
    )


def render(command: SendSignInAlertV1, default_locale: str = "en") -> OutgoingEmail:
    return render_signin_alert(
        command,
        product_name="Herald",
        default_locale=default_locale,
        from_header="Herald <no-reply@example.com>",
    )


class TestEnglish:
    def test_envelope(self) -> None:
        email = render(make_command())
        assert email.subject == "🔐 New sign-in to your Herald account"
        assert email.to_address == "bat@example.com"
        assert email.to_name == "Bat"
        assert email.from_header == "Herald <no-reply@example.com>"
        assert email.idempotency_key == "job-123"

    def test_text_has_every_line(self) -> None:
        text = render(make_command()).text
        for line in [
            "Hello, Bat!",
            "You signed in to your Herald account.",
            "Sign-in details:",
            "Email: bat@example.com",
            "Sign-in method: GitHub",
            "IP address: 203.0.113.7",
            "Browser: Chrome 120",
            "System: macOS 14.0",
            "Date: 23 November 2026, 16:15 (Asia/Ulaanbaatar, UTC+08:00)",
            "If this wasn't you, contact us immediately.",
            "Thanks,",
            "The Herald team",
        ]:
            assert line in text.splitlines(), line

    def test_html_has_every_detail(self) -> None:
        html = render(make_command()).html
        assert '<html lang="en">' in html
        for fragment in [
            "Hello, Bat!",
            "You signed in to your Herald account.",
            "Sign-in details:",
            "Email",
            "bat@example.com",
            "Sign-in method",
            "GitHub",
            "IP address",
            "203.0.113.7",
            "Browser",
            "Chrome 120",
            "System",
            "macOS 14.0",
            "Date",
            "23 November 2026, 16:15 (Asia/Ulaanbaatar, UTC+08:00)",
            "If this wasn&#39;t you, contact us immediately.",
            "The Herald team",
        ]:
            assert fragment in html, fragment

    def test_greets_without_a_name(self) -> None:
        email = render(make_command(name=""))
        assert email.text.startswith("Hello!\n")
        assert "Hello!" in email.html


class TestMongolian:
    DESIGN_LINES = [
        "Сайн байна уу, Бат!",
        "Таны Herald бүртгэлд амжилттай нэвтэрсэн байна.",
        "Нэвтрэлтийн мэдээлэл:",
        "Хэрэв та энэ нэвтрэлтийг хийгээгүй бол нэн даруй бидэнтэй холбогдоно уу.",
        "Баярлалаа,",
        "Herald баг",
    ]

    def test_subject(self) -> None:
        email = render(make_command(locale="mn", name="Бат"))
        assert email.subject == "🔐 Таны бүртгэлд нэвтэрсэн байна - Herald"

    def test_text_contains_each_design_line(self) -> None:
        lines = render(make_command(locale="mn", name="Бат")).text.splitlines()
        for line in self.DESIGN_LINES:
            assert line in lines, line

    def test_text_details(self) -> None:
        lines = render(make_command(locale="mn", name="Бат")).text.splitlines()
        for line in [
            "Имэйл: bat@example.com",
            "Нэвтрэх арга: GitHub",
            "IP хаяг: 203.0.113.7",
            "Хөтөч: Chrome 120",
            "Систем: macOS 14.0",
            "Огноо: 2026 оны 11-р сарын 23, 16:15 (Asia/Ulaanbaatar, UTC+08:00)",
        ]:
            assert line in lines, line

    def test_html(self) -> None:
        html = render(make_command(locale="mn", name="Бат")).html
        assert '<html lang="mn">' in html
        for fragment in [
            *self.DESIGN_LINES,
            "Имэйл",
            "Нэвтрэх арга",
            "IP хаяг",
            "Хөтөч",
            "Систем",
            "Огноо",
            "2026 оны 11-р сарын 23, 16:15 (Asia/Ulaanbaatar, UTC+08:00)",
        ]:
            assert fragment in html, fragment

    def test_greets_without_a_name(self) -> None:
        email = render(make_command(locale="mn", name=""))
        assert email.text.startswith("Сайн байна уу!\n")


class TestLocale:
    def test_falls_back_to_default_locale(self) -> None:
        email = render(make_command(locale=None), default_locale="mn")
        assert email.subject == "🔐 Таны бүртгэлд нэвтэрсэн байна - Herald"
        assert '<html lang="mn">' in email.html

    def test_user_locale_wins_over_default(self) -> None:
        email = render(make_command(locale="en"), default_locale="mn")
        assert email.subject == "🔐 New sign-in to your Herald account"


class TestLocalTime:
    def test_new_york_summer_is_utc_minus_4(self) -> None:
        summer = datetime(2026, 7, 1, 16, 30, tzinfo=timezone.utc)
        text = render(make_command(timezone_name="America/New_York", occurred_at=summer)).text
        assert "Date: 1 July 2026, 12:30 (America/New_York, UTC-04:00)" in text

    def test_new_york_winter_is_utc_minus_5(self) -> None:
        winter = datetime(2026, 1, 15, 16, 30, tzinfo=timezone.utc)
        text = render(make_command(timezone_name="America/New_York", occurred_at=winter)).text
        assert "Date: 15 January 2026, 11:30 (America/New_York, UTC-05:00)" in text

    def test_conversion_can_cross_midnight(self) -> None:
        late_utc = datetime(2026, 11, 23, 20, 5, tzinfo=timezone.utc)
        text = render(make_command(locale="mn", occurred_at=late_utc)).text
        assert "Огноо: 2026 оны 11-р сарын 24, 04:05 (Asia/Ulaanbaatar, UTC+08:00)" in text

    def test_utc_when_user_has_no_timezone(self) -> None:
        text = render(make_command(timezone_name=None)).text
        assert "Date: 23 November 2026, 08:15 (UTC)" in text


class TestUserAgent:
    def test_describes_browser_and_system(self) -> None:
        assert describe_user_agent(CHROME_ON_MAC) == ("Chrome 120", "macOS 14.0")
        assert describe_user_agent(FIREFOX_ON_WINDOWS) == ("Firefox 121", "Windows 10")

    @pytest.mark.parametrize("user_agent", ["", "   ", "python-httpx/0.27.0"])
    def test_unknown_parts_are_none(self, user_agent: str) -> None:
        assert describe_user_agent(user_agent) == (None, None)

    def test_unknown_user_agent_renders_unknown_in_each_locale(self) -> None:
        english = render(make_command(user_agent="")).text.splitlines()
        assert "Browser: Unknown" in english
        assert "System: Unknown" in english
        mongolian = render(make_command(locale="mn", user_agent="")).text.splitlines()
        assert "Хөтөч: Тодорхойгүй" in mongolian
        assert "Систем: Тодорхойгүй" in mongolian


class TestProvider:
    @pytest.mark.parametrize(
        ("provider", "shown"),
        [
            ("github", "GitHub"),
            ("google", "Google"),
            ("password", "Password"),
            ("magic_link", "Magic Link"),
        ],
    )
    def test_display_name(self, provider: str, shown: str) -> None:
        assert display_provider(provider) == shown


class TestEscaping:
    NAME = 'Bat <script>alert("x")</script> & Co'

    def test_html_escapes_the_name(self) -> None:
        html = render(make_command(name=self.NAME)).html
        assert "<script>" not in html
        assert "Hello, Bat &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co!" in html

    def test_text_shows_the_name_literally(self) -> None:
        text = render(make_command(name=self.NAME)).text
        assert f"Hello, {self.NAME}!" in text.splitlines()

    @pytest.mark.parametrize("locale", ["en", "mn"])
    def test_text_part_has_no_html_tags(self, locale: str) -> None:
        text = render(make_command(locale=locale)).text
        assert not HTML_TAG.search(text)
        assert "&lt;" not in text and "&amp;" not in text
