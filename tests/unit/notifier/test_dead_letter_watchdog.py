"""The dead-letter watchdog's alert email."""

from services.notifier.email.transports.mime import build_mime_message, message_id_for
from services.notifier.maintenance.deps import WatchdogPolicy
from services.notifier.maintenance.watchdog import alert_email
from shared.topology import RUN_MAINTENANCE


def test_the_alert_html_escapes_the_product_name():
    email = alert_email(12, WatchdogPolicy(product_name="Tom & <Jerry>", admin_email="ops@example.mn"), "job-1")

    assert "Tom &amp; &lt;Jerry&gt;" in email.html
    assert "<Jerry>" not in email.html
    assert "Tom & <Jerry>" in email.text


def test_the_alert_message_id_keeps_the_whole_idempotency_key():
    key = RUN_MAINTENANCE.job_id_for("maintenance:dead_letter_watchdog:2026-11-24T00:05Z")
    message = build_mime_message(alert_email(12, WatchdogPolicy(admin_email="ops@example.mn"), key))

    assert message["Message-ID"] == message_id_for(key)
    assert not message["Message-ID"].defects
