"""The digest's words read right whatever the product is called."""

from datetime import timedelta

import pytest

from services.notifier.digests.model import DigestItem
from services.notifier.digests.rendering import render_digest
from shared.schemas.scheduler import DigestDueV1
from tests.support.digests_due import SCHEDULED_FOR, digest_due


def render(product_name: str, locale: str):
    return render_digest(
        DigestDueV1.model_validate(digest_due(locale=locale)),
        [DigestItem("Title", "Body", SCHEDULED_FOR - timedelta(hours=1))],
        0,
        job_id="job-1",
        product_name=product_name,
        default_locale="en",
        from_header="Herald <no-reply@localhost>",
    )


# Names ending in a consonant, a back vowel and a front vowel: a genitive suffix would need a
# different ending for each (Herald-ын, Мэдээ-ний, Эрдэнэ-ийн), so the copy must use none.
@pytest.mark.parametrize("product_name", ["Herald", "Мэдээ", "Эрдэнэ", "Acme Mail"])
def test_the_mongolian_footer_puts_no_case_ending_on_the_product_name(product_name):
    email = render(product_name, "mn")

    footer = f"Та {product_name} дахь өдрийн тоймд бүртгүүлсэн тул энэ имэйлийг хүлээн авлаа."
    assert footer in email.text
    assert footer in email.html
    assert f"{product_name}-" not in email.text + email.html


def test_the_english_footer_names_the_product():
    email = render("Acme Mail", "en")

    assert "You receive this email because you subscribed to a daily digest from Acme Mail." in email.text
