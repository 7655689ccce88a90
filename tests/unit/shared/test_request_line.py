"""A path or query that no route can use is a 400 problem before any route sees it."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.web.problems import PROBLEM_JSON, install_problem_handlers


@pytest.fixture
def client():
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/v1/jobs/{job_id}")
    def job(job_id: str, status: str | None = None):
        return {"job_id": job_id, "status": status}

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    "url, why",
    [
        ("/v1/jobs/a%00b", "the path holds a control character"),
        ("/v1/jobs/a%0D%0Ab", "the path holds a control character"),
        ("/v1/jobs/%ED%A0%80", "the path is not UTF-8"),  # a lone surrogate
        ("/v1/jobs/%FF", "the path is not UTF-8"),
        ("/v1/jobs/j-1?status=%00", "the query holds a control character"),
        ("/v1/jobs/j-1?status=%C3", "the query is not UTF-8"),
    ],
)
def test_a_control_character_or_broken_utf8_in_the_request_line_is_a_400(client, url, why):
    response = client.get(url)

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == why


def test_ordinary_text_passes_through_whatever_its_script(client):
    response = client.get("/v1/jobs/%D0%B1%D0%B0%D1%82 1?status=a+b%20c")

    assert response.status_code == 200
    assert response.json() == {"job_id": "бат 1", "status": "a b c"}
