"""Notification templates: every template in both languages, escaping, and refusing bad requests."""

import pytest

from services.notifier.notifications.rendering import (
    LOCALES,
    NotificationTemplates,
    TemplateDataError,
    UnknownTemplate,
)

SAMPLE_DATA = {
    "generic": {"title": "Maintenance tonight", "body": "We will be down.\n\nBack by 02:00.", "action_url": "https://status.example.mn"},
    "comment_mention": {"author": "Сараа", "snippet": "Энийг харна уу", "url": "https://app.example.mn/c/1"},
    "invoice_due": {"amount": "120,000", "currency": "MNT", "due_date": "2026-12-01", "url": "https://pay.example.mn/i/7"},
}


@pytest.fixture(scope="module")
def templates():
    return NotificationTemplates(product_name="Acme", default_locale="en")


def test_ships_the_documented_templates(templates):
    assert {"generic", "comment_mention", "invoice_due"} <= templates.names


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(SAMPLE_DATA))
def test_every_template_renders_title_body_text_and_html_in_each_language(templates, name, locale):
    rendered = templates.render(name, SAMPLE_DATA[name], locale=locale, recipient_name="Бат")
    assert rendered.locale == locale
    assert rendered.title and "\n" not in rendered.title
    assert rendered.body
    assert rendered.body in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>") and f'lang="{locale}"' in rendered.html
    assert "Acme" in rendered.text, "the product name comes from settings"


def test_comment_mention_in_english(templates):
    rendered = templates.render("comment_mention", SAMPLE_DATA["comment_mention"], locale="en", recipient_name="Bat")
    assert rendered.title == "Сараа mentioned you in a comment"
    assert rendered.text.startswith("Hello, Bat!\n")
    assert "View the comment: https://app.example.mn/c/1" in rendered.text
    assert "The Acme team" in rendered.text


def test_comment_mention_in_mongolian(templates):
    rendered = templates.render("comment_mention", SAMPLE_DATA["comment_mention"], locale="mn", recipient_name="Бат")
    assert rendered.title == "Сараа таныг сэтгэгдэлдээ дурдлаа"
    assert rendered.text.startswith("Сайн байна уу, Бат!\n")
    assert "Сэтгэгдлийг харах: https://app.example.mn/c/1" in rendered.text
    assert "Acme баг" in rendered.text


def test_invoice_due_writes_the_date_as_each_language_does(templates):
    en = templates.render("invoice_due", SAMPLE_DATA["invoice_due"], locale="en")
    mn = templates.render("invoice_due", SAMPLE_DATA["invoice_due"], locale="mn")
    assert en.title == "Your invoice for 120,000 MNT is due on 1 December 2026"
    assert "2026 оны 12-р сарын 1" in mn.title
    assert "Нэхэмжлэхийг харах, төлөх" in mn.html


def test_generic_without_an_action_has_no_link(templates):
    rendered = templates.render("generic", {"title": "Hi", "body": "Plain."}, locale="en")
    assert "<a " not in rendered.html
    assert "Open:" not in rendered.text


def test_generic_action_label_defaults_per_language(templates):
    data = {"title": "Hi", "body": "x", "action_url": "https://example.mn"}
    assert "Open: https://example.mn" in templates.render("generic", data, locale="en").text
    assert "Нээх: https://example.mn" in templates.render("generic", data, locale="mn").text


def test_html_escapes_the_data_and_plain_text_keeps_it_as_typed(templates):
    data = {"author": "<b>Eve</b>", "snippet": "<script>alert(1)</script>", "url": "https://app.example.mn/c/1"}
    rendered = templates.render("comment_mention", data, locale="en")
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<b>Eve</b>" not in rendered.html
    assert "<script>alert(1)</script>" in rendered.text


def test_no_locale_means_the_default_locale():
    templates = NotificationTemplates(product_name="Acme", default_locale="mn")
    assert templates.render("generic", {"title": "Сайн", "body": "..."}, locale=None).locale == "mn"


def test_an_unknown_template_is_refused(templates):
    with pytest.raises(UnknownTemplate, match="unknown template 'welcome'"):
        templates.render("welcome", {}, locale="en")


def test_layouts_are_not_templates(templates):
    with pytest.raises(UnknownTemplate):
        templates.render("_email", {}, locale="en")


@pytest.mark.parametrize("name", sorted(SAMPLE_DATA))
def test_data_missing_a_needed_variable_is_refused(templates, name):
    needed = "title" if name == "generic" else "url"
    data = {key: value for key, value in SAMPLE_DATA[name].items() if key != needed}
    with pytest.raises(TemplateDataError, match=f"'{needed}' is undefined"):
        templates.render(name, data, locale="mn")


def test_a_link_must_be_http_or_https(templates):
    data = {**SAMPLE_DATA["comment_mention"], "url": "javascript:alert(1)"}
    with pytest.raises(TemplateDataError, match="not an http"):
        templates.render("comment_mention", data, locale="en")


def test_a_very_long_title_is_cut_to_fit(templates):
    rendered = templates.render("generic", {"title": "x" * 1000, "body": "b"}, locale="en")
    assert len(rendered.title) == 300 and rendered.title.endswith("…")
