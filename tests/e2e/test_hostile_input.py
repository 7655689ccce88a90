"""Hostile input against a running Herald, on each database: generated bodies for both HTTP
routes and poison messages for both exchanges.

What must hold, whatever comes in: no 5xx and no reset connection (one keep-alive connection
serves every request, so a reset shows up as an error); every 4xx is problem+json; an invalid
request does not fail valid ones sent beside it; every poison message is archived once, with its
reason and its error, and the queues drain.
"""

import copy
import json
import re
import uuid
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import ADMIN_TOKEN, INGRESS_KEY, herald_env
from tests.support.databases import PostgresSchema
from tests.support.events import notification_requested, publish_json, signed_in_event
from tests.support.herald_process import HeraldProcess
from tests.support.waiting import wait_until

EXAMPLES = 120

# -- what a careless producer or an attacker sends ---------------------------------------------

EDGE_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "Bat\r\nBcc: victim@example.com",
    "line\nbreak",
    "tab\tand\x7fdel\x1b[31m",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e",
    "\ud800",  # a lone surrogate: valid JSON (as an escape), not encodable as UTF-8
    "\udfff tail",
    "\ufeffbom",
    "x" * 65_536,
    "бат@жишээ.мн",
    "bat@xn--80ajglhfv.xn--l1acc",
    "'; DROP TABLE jobs; --",
    "{{ 7 * 7 }}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
]
ZONE_EDGES = [
    "Asia",
    "America",
    "Etc",
    "posixrules",
    "localtime",
    "Factory",
    "right/UTC",
    "posix/UTC",
    "/etc/localtime",
    "../../../etc/passwd",
    "UTC\x00",
    "Asia/Ulaanbaatar ",
    "asia/ulaanbaatar",
    *sorted(zoneinfo.available_timezones())[:40:7],
]
DATE_EDGES = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2026-13-45T25:61:61Z",
    "2026-11-23T08:15:00",  # no zone
    "2026-11-23T08:15:00+99:00",
    "2026-11-23",
    "now",
    "1e308",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(st.characters(codec=None, categories=["Cc", "Cf", "Co", "Cs", "Zl", "Zp"]), min_size=1, max_size=8),
    st.sampled_from(EDGE_STRINGS + ZONE_EDGES + DATE_EDGES),
)
hostile_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12
)


DEEP_PLACEHOLDER = "__deeply_nested__"


def with_deep_nesting(body: dict, path: tuple, depth: int) -> bytes:
    """``body`` as JSON with the value at ``path`` nested ``depth`` lists deep: written as text,
    since building it as objects would exhaust the test's own recursion limit."""
    nested = "[" * depth + '"deep"' + "]" * depth
    return encoded(set_at(body, path, DEEP_PLACEHOLDER)).replace(f'"{DEEP_PLACEHOLDER}"'.encode(), nested.encode())


def paths_of(body: dict, prefix: tuple = ()) -> list[tuple]:
    paths = []
    for key, value in body.items():
        paths.append((*prefix, key))
        if isinstance(value, dict):
            paths.extend(paths_of(value, (*prefix, key)))
    return paths


def set_at(body: dict, path: tuple, value: object) -> dict:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):  # an earlier change made it something else
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return body


def delete_at(body: dict, path: tuple) -> dict:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


@st.composite
def hostile_bodies(draw, valid: dict) -> bytes:
    """A valid body with one or more fields made hostile, or something that is not a body at all."""
    kind = draw(st.sampled_from(["field", "field", "field", "fields", "missing", "extra", "whole", "deep"]))
    if kind == "whole":
        return encoded(draw(hostile_values))
    if kind == "deep":
        return with_deep_nesting(valid, draw(st.sampled_from(paths_of(valid))), draw(st.integers(10, 100_000)))
    body = valid
    if kind == "missing":
        return encoded(delete_at(body, draw(st.sampled_from(paths_of(valid)))))
    if kind == "extra":
        return encoded({**body, draw(st.text(min_size=1, max_size=12)): draw(hostile_values)})
    for _ in range(1 if kind == "field" else draw(st.integers(2, 4))):
        body = set_at(body, draw(st.sampled_from(paths_of(valid))), draw(hostile_values))
    return encoded(body)


def valid_signin() -> dict:
    return signed_in_event(event_id=f"valid-{uuid.uuid4()}", user_id=f"u-{uuid.uuid4()}")


def valid_notification() -> dict:
    return notification_requested(
        event_id=f"valid-{uuid.uuid4()}",
        user_id=f"u-{uuid.uuid4()}",
        template="comment_mention",
        data={"author": "Сараа", "snippet": "сэтгэгдэл", "url": "https://app.example.mn/c/1"},
        channels=["in_app"],
    )


def encoded(body: object) -> bytes:
    # ensure_ascii: lone surrogates travel as \ud800 escapes, as any JSON library would send them.
    return json.dumps(body, ensure_ascii=True, allow_nan=True).encode()


# -- Herald on each database -------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hostile_herald(request, tmp_path_factory, rabbit_admin):
    vhost = rabbit_admin.create_vhost()
    schema = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'herald.db'}"
    else:
        request.getfixturevalue("postgres_required")  # skipped without it; failed under CI
        schema = PostgresSchema()
        database_url = schema.url
    process = HeraldProcess(
        tmp_path_factory.mktemp("herald"),
        herald_env(rabbit_admin.amqp_url(vhost), database_url, EMAIL_TRANSPORT="log"),
    ).start()
    try:
        yield process, vhost
    finally:
        code, _ = process.stop()
        rabbit_admin.delete_vhost(vhost)
        if schema is not None:
            schema.drop()
        assert code == 0, f"herald up exited with {code}:\n{process.logs()[-3000:]}"


@pytest.fixture(scope="module")
def http(hostile_herald):
    """One client, one keep-alive connection per service, for every request of the module."""
    with httpx.Client(timeout=30, headers={"X-API-Key": INGRESS_KEY}) as client:
        yield client


def assert_answered_well(response: httpx.Response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        problem = response.json()
        assert problem.get("title") and problem.get("status") == response.status_code, problem


ROUTES = {
    "signin events": ("auth_events", "/v1/events", valid_signin),
    "notifications": ("notifier", "/v1/notifications", valid_notification),
}


@pytest.mark.parametrize("route", ROUTES)
def test_no_generated_body_earns_a_5xx_or_a_reset_connection(hostile_herald, http, route):
    process, _ = hostile_herald
    service, path, valid = ROUTES[route]
    url = f"{getattr(process, service)}{path}"

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=hostile_bodies(valid()))
    def post(body):
        assert_answered_well(http.post(url, content=body, headers={"Content-Type": "application/json"}))

    post()
    # And after all of it, the same connection still serves a valid request.
    assert http.post(url, content=encoded(valid())).status_code == 202


@pytest.mark.parametrize("route", ROUTES)
def test_every_edge_value_in_every_field_is_answered_well(hostile_herald, http, route):
    """The sweep that generation may miss: each known edge value in each field, once."""
    process, _ = hostile_herald
    service, path, valid = ROUTES[route]
    url = f"{getattr(process, service)}{path}"
    for field in paths_of(valid()):
        for value in [*EDGE_STRINGS, *ZONE_EDGES, *DATE_EDGES, 2**70, -1, 1.5, float("nan"), None, [], {}]:
            body = set_at(valid(), field, value)
            response = http.post(url, content=encoded(body), headers={"Content-Type": "application/json"})
            assert_answered_well(response)
        assert_answered_well(http.post(url, content=with_deep_nesting(valid(), field, 100_000)))


def test_invalid_requests_sent_beside_valid_ones_fail_alone(hostile_herald, http):
    process, _ = hostile_herald
    url = f"{process.auth_events}/v1/events"
    valid = [valid_signin() for _ in range(200)]
    hostile_fields = [path for path in paths_of(valid_signin()) if path[-1] in ("event_id", "id", "name", "provider", "user_agent")]
    invalid = [set_at(valid_signin(), path, "nul\x00inside") for path in hostile_fields for _ in range(4)]
    bodies = [*invalid, *valid]
    bodies = bodies[::2] + bodies[1::2]  # interleaved, so they share batches

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(lambda body: (body, http.post(url, content=encoded(body))), bodies))

    for body, response in answers:
        assert_answered_well(response)
        if body in valid:
            assert response.status_code == 202, response.text
        else:
            assert response.status_code == 422, response.text


POISON = [
    b"not json at all",
    b"\xff\xfe\x00 binary",
    b"[]",
    b'"a string"',
    b"{" * 5000,
    encoded(set_at(signed_in_event(event_id="poison-nul"), ("user", "name"), "Bat\x00")),
    encoded(set_at(signed_in_event(event_id="poison-zone"), ("user", "timezone"), "Asia")),
    encoded(set_at(signed_in_event(event_id="poison-date"), ("occurred_at",), "9999-12-31T23:59:59Z")),
    encoded(set_at(signed_in_event(event_id="poison-crlf"), ("user", "name"), "Bat\r\nBcc: victim@example.com")),
    encoded(set_at(signed_in_event(event_id="poison-surrogate"), ("user", "name"), "\ud800")),
    encoded({**signed_in_event(event_id="poison-extra"), "surprise": 1}),
]
COPIES = 3  # identical bytes and headers, each its own message: each its own dead letter


def queue_depths(rabbit_admin, vhost: str) -> dict[str, int]:
    response = rabbit_admin.http.get(f"/api/queues/{quote(vhost, safe='')}", params={"columns": "name,messages"})
    response.raise_for_status()
    return {queue["name"]: queue.get("messages", 0) for queue in response.json()}


def test_every_poison_message_is_archived_once_with_its_reason_and_error(hostile_herald, rabbit_admin):
    process, vhost = hostile_herald
    admin = httpx.Client(base_url=process.notifier, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)
    before = admin.get("/v1/admin/dlq", params={"limit": 1}).json()["count"]
    sent = 0
    for exchange, routing_key in (("auth.events", "auth.user.signed_in"), ("notifications", "notification.requested")):
        for body in POISON:
            for copy_number in range(COPIES):
                # Half with a message id of their own, half with none, as foreign producers do.
                properties = {"message_id": f"m-{uuid.uuid4()}"} if copy_number % 2 else {}
                publish_json(process.env["AMQP_URL"], exchange, routing_key, body, **properties)
                sent += 1

    wait_until(
        lambda: admin.get("/v1/admin/dlq", params={"limit": 1}).json()["count"] - before >= sent,
        timeout=60,
        what=f"{sent} dead letters archived",
    )
    listing = admin.get("/v1/admin/dlq", params={"limit": 1000}).json()
    assert listing["count"] - before == sent, "each poison message archived once"
    for item in listing["items"]:
        assert item["reason"], item
        assert item["last_error"], item
    wait_until(
        lambda: all(depth == 0 for depth in queue_depths(rabbit_admin, vhost).values()),
        timeout=60,
        what="every queue drained",
    )


HOSTILE_PARAMETERS = [
    "\x00", "a\x00b", "\r\n", "\ud800", "x" * 5000, "-1", "0", str(2**63), "99999999999999999999999", "1e400", "NaN",
    "../..", "%", "Asia", "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00Z",
]


def test_every_get_route_answers_hostile_path_and_query_parameters_well(hostile_herald, http):
    """Every GET route each service documents, with each parameter made hostile."""
    process, _ = hostile_herald
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for base in (process.auth_events, process.notifier, process.scheduler):
        spec = http.get(f"{base}/openapi.json").json()
        for path, operations in spec["paths"].items():
            if "get" not in operations:
                continue
            parameters = operations["get"].get("parameters", [])
            for hostile in HOSTILE_PARAMETERS:
                segment = quote(hostile.encode("utf-8", "surrogatepass"), safe="")
                url = base + re.sub(r"\{[^}]+\}", segment, path)
                # Every parameter hostile at once, then each alone (the others valid or absent), so
                # that one refused parameter cannot hide what another would do.
                query_names = [p["name"] for p in parameters if p["in"] == "query"]
                for names in [query_names, *[[name] for name in query_names]]:
                    query = {name: hostile.encode("utf-8", "surrogatepass") for name in names}
                    response = http.get(url, params=query, headers=auth)
                    assert response.status_code < 500, f"GET {path} {names} = {hostile[:20]!r}: {response.status_code} {response.text[:300]}"
                    assert_answered_well(response)
