"""Error answers on a real server: the app set up as every Herald API is (problem handlers),
served by shared.runtime.service.HttpServer (uvicorn), called over one kept-alive httpx connection."""

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from shared.runtime.service import HttpServer
from shared.web.problems import PROBLEM_JSON, install_problem_handlers
from tests.support.herald_process import free_port


class Unexpected(Exception):
    pass


def failing_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/sync-failure")
    def sync_failure():
        raise Unexpected("a bug in a sync route")

    @app.get("/async-failure")
    async def async_failure():
        raise Unexpected("a bug in an async route")

    @app.get("/failure-mid-answer")
    def failure_mid_answer():
        def chunks():
            yield b"the first part"
            raise Unexpected("a bug after the answer started")

        return StreamingResponse(chunks())

    @app.get("/fine")
    def fine():
        return {"fine": True}

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    server = HttpServer("test-api", failing_app(), "127.0.0.1", port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def local_address(response: httpx.Response) -> tuple:
    """The client's end of the connection the response came over."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


def test_after_an_unexpected_error_the_same_connection_serves_the_next_request(base_url: str):
    with httpx.Client(base_url=base_url) as client:
        connections = set()
        for _ in range(25):
            for path in ("/sync-failure", "/async-failure"):
                failed = client.get(path)
                assert failed.status_code == 500
                assert failed.headers["content-type"] == PROBLEM_JSON
                assert failed.json()["title"] == "Internal Server Error"
                assert "a bug" not in failed.text  # the traceback is for the log, not the caller
                assert failed.headers.get("connection") != "close"

                served = client.get("/fine")
                assert (served.status_code, served.json()) == (200, {"fine": True})
                connections |= {local_address(failed), local_address(served)}

            missing = client.get("/no-such-route")  # a handled error, for comparison
            assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM_JSON
            connections.add(local_address(missing))

    assert len(connections) == 1


def test_an_unexpected_error_is_logged_once_with_its_traceback(base_url: str, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.ERROR), httpx.Client(base_url=base_url) as client:
        assert client.get("/sync-failure").status_code == 500

    [record] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert record.name == "herald.http"
    assert (record.method, record.path) == ("GET", "/sync-failure")
    assert record.exc_info[0] is Unexpected and "a bug in a sync route" in caplog.text


def test_an_error_after_the_answer_started_closes_that_connection_and_the_next_request_is_served(base_url: str):
    with httpx.Client(base_url=base_url) as client:
        for _ in range(10):
            with pytest.raises(httpx.RemoteProtocolError):  # a 200 already sent cannot become a 500
                client.get("/failure-mid-answer")

            served = client.get("/fine")
            assert served.status_code == 200
