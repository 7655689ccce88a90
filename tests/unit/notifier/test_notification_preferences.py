"""Notification preferences: the rules of the value, and the store on a real (in-memory) database."""

import pytest
from pydantic import ValidationError

from services.notifier.preferences.model import DEFAULT_PREFERENCES, Preferences, PreferencesBody
from services.notifier.preferences.store import PreferenceStore
from shared.db import unit_of_work
from tests.fakes.clock import FakeClock
from tests.support.databases import in_memory_session_factory


@pytest.fixture
def session_factory():
    return in_memory_session_factory()


def test_a_muted_user_gets_only_security_notifications():
    muted = Preferences(muted=True)
    assert not muted.allows("comments", "email")
    assert muted.allows("security", "email")


def test_an_opt_out_drops_one_channel_of_one_category():
    preferences = Preferences(opt_outs=frozenset({("comments", "email")}))
    assert not preferences.allows("comments", "email")
    assert preferences.allows("comments", "in_app")
    assert preferences.allows("billing", "email")
    assert not preferences.muted


def test_security_cannot_be_opted_out_of():
    assert Preferences(opt_outs=frozenset({("security", "email")})).allows("security", "email")
    with pytest.raises(ValidationError, match="cannot be opted out of"):
        PreferencesBody.model_validate({"muted": False, "opt_outs": [{"category": "security", "channel": "email"}]})


def test_an_opt_out_names_a_known_channel_and_a_well_formed_category():
    with pytest.raises(ValidationError):
        PreferencesBody.model_validate({"muted": False, "opt_outs": [{"category": "comments", "channel": "sms"}]})
    with pytest.raises(ValidationError):
        PreferencesBody.model_validate({"muted": False, "opt_outs": [{"category": "Bad Category", "channel": "email"}]})


def test_a_user_who_set_nothing_gets_the_defaults(session_factory):
    with unit_of_work(session_factory) as session:
        assert PreferenceStore(FakeClock()).get(session, "u-1") == DEFAULT_PREFERENCES


def test_stored_preferences_are_read_back_and_replaced_whole(session_factory):
    store = PreferenceStore(FakeClock())
    first = Preferences(muted=True, opt_outs=frozenset({("comments", "email"), ("billing", "in_app")}))
    with unit_of_work(session_factory) as session:
        store.put(session, "u-1", first)
    with unit_of_work(session_factory) as session:
        assert store.get(session, "u-1") == first
        store.put(session, "u-1", Preferences())
    with unit_of_work(session_factory) as session:
        assert store.get(session, "u-1") == Preferences()
        assert store.get(session, "u-2") == DEFAULT_PREFERENCES
