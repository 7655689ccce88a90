"""Bad settings name the variable, the value given and what is allowed; every one at once."""

import random
import shlex
import string

import pytest

from services.auth_events.settings import AuthEventsSettings
from services.notifier.settings import NotifierSettings
from services.scheduler.settings import SchedulerSettings
from shared.settings import InvalidSettings, load_settings

RANDOM = random.Random(8)


def some_words(count: int) -> list[str]:
    """Generated values that are no port, no transport, no locale: letters, signs, spaces."""
    alphabet = string.ascii_letters + string.punctuation + " "
    return ["".join(RANDOM.choice(alphabet) for _ in range(RANDOM.randint(1, 12))).strip() or "x" for _ in range(count)]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    return monkeypatch


def problems_of(settings_class) -> list[str]:
    with pytest.raises(InvalidSettings) as refused:
        load_settings(settings_class)
    return refused.value.problems


NOT_PORTS = ["abc", "0", "65536", "-1", "80.5", "", "1e3", *some_words(10), *(str(RANDOM.randint(65536, 10**9)) for _ in range(5))]


@pytest.mark.parametrize("value", NOT_PORTS)
@pytest.mark.parametrize(
    ("variable", "settings_class"),
    [("NOTIFIER_PORT", NotifierSettings), ("AUTH_EVENTS_PORT", AuthEventsSettings), ("SCHEDULER_PORT", SchedulerSettings)],
)
def test_a_bad_port_names_the_variable_the_value_and_the_range(clean_environment, variable, settings_class, value):
    if value.isdigit() and 1 <= int(value) <= 65535:
        pytest.skip("a valid port")
    clean_environment.setenv(variable, value)
    [problem] = problems_of(settings_class)
    # Quoted as a shell would need it, so the line can be pasted back.
    assert problem == f"{variable}={shlex.quote(value)} is not valid: expected an integer (1-65535)"


def test_the_example_from_the_issue_reads_as_promised(clean_environment):
    clean_environment.setenv("NOTIFIER_PORT", "abc")
    assert problems_of(NotifierSettings) == ["NOTIFIER_PORT=abc is not valid: expected an integer (1-65535)"]


@pytest.mark.parametrize(
    ("variable", "allowed", "settings_class"),
    [
        ("EMAIL_TRANSPORT", "outbox, sendgrid, smtp, log", NotifierSettings),
        ("DEFAULT_LOCALE", "en, mn", NotifierSettings),
        ("HERALD_ENV", "development, test, production", AuthEventsSettings),
        ("LOG_LEVEL", "DEBUG, INFO, WARNING, ERROR, CRITICAL", SchedulerSettings),
    ],
)
@pytest.mark.parametrize("value", ["pigeon", "prod", "fr", "EN ", *some_words(5)])
def test_a_value_outside_a_choice_lists_the_choices(clean_environment, variable, allowed, settings_class, value):
    clean_environment.setenv(variable, value)
    [problem] = problems_of(settings_class)
    assert problem == f"{variable}={shlex.quote(value)} is not valid: expected one of {allowed}"


@pytest.mark.parametrize("expression", ["61 * * * *", "* 24 * * *", "* * * *", "0 0 32 * *", "0 0 * * 8", "every day"])
def test_a_bad_cron_expression_says_which_variable_and_why(clean_environment, expression):
    clean_environment.setenv("RETENTION_CRON", expression)
    [problem] = problems_of(SchedulerSettings)
    assert problem.startswith(f"RETENTION_CRON='{expression}' is not valid: expected a five-field cron expression")


@pytest.mark.parametrize("url", ["notaurl", "mysql://root@localhost/herald", "http://example.com", "sqlite"])
def test_an_unsupported_database_url_is_one_line(clean_environment, url):
    clean_environment.setenv("DATABASE_URL", url)
    [problem] = problems_of(AuthEventsSettings)
    assert problem.startswith(f"DATABASE_URL={url} is not valid: unsupported URL: expected postgresql://")


def test_several_bad_settings_are_reported_together_one_line_each(clean_environment):
    for variable, value in {
        "NOTIFIER_PORT": "abc",
        "EMAIL_TRANSPORT": "pigeon",
        "HERALD_ENV": "prod",
        "DEFAULT_LOCALE": "fr",
    }.items():
        clean_environment.setenv(variable, value)
    problems = problems_of(NotifierSettings)
    assert sorted(problem.split("=")[0] for problem in problems) == [
        "DEFAULT_LOCALE",
        "EMAIL_TRANSPORT",
        "HERALD_ENV",
        "NOTIFIER_PORT",
    ]


def test_production_reports_every_problem_at_once(clean_environment):
    clean_environment.setenv("HERALD_ENV", "production")
    clean_environment.setenv("AMQP_URL", "amqp://guest:guest@rabbit.internal/%2F")
    clean_environment.setenv("EMAIL_TRANSPORT", "sendgrid")
    problems = problems_of(NotifierSettings)
    assert problems == [
        "refusing to start in production: INGRESS_API_KEYS is empty: anyone could post events",
        "refusing to start in production: ADMIN_TOKEN is empty: the admin API would be open",
        "refusing to start in production: AMQP_URL uses the guest account off localhost",
        "refusing to start in production: EMAIL_TRANSPORT=sendgrid needs SENDGRID_API_KEY",
    ]


def test_a_value_is_repeated_with_what_is_allowed(clean_environment):
    clean_environment.setenv("MAX_EVENT_BYTES", "lots")
    [problem] = problems_of(AuthEventsSettings)
    assert problem == "MAX_EVENT_BYTES=lots is not valid: expected an integer (at least 1)"


@pytest.mark.parametrize("variable", ["DATABASE_URL", "AMQP_URL"])
def test_a_password_in_a_url_is_never_repeated(clean_environment, variable):
    clean_environment.setenv(variable, "mysql://root:s3cret-pw@db.internal/herald")
    [problem] = problems_of(AuthEventsSettings)
    assert "s3cret-pw" not in problem
    assert problem.startswith(f"{variable}='mysql://root:***@db.internal/herald' is not valid: unsupported URL")
