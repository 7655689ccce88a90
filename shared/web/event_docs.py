"""What ``/docs`` says about an event route (``shared.web.event_route``): its body, headers and answers.

The route reads its raw body itself, so FastAPI cannot describe it from a parameter; this is the
description it would have written, given as the route's ``openapi_extra``.
"""

from shared.jobs.ledger import JobStatus
from shared.schemas import Message


def inline_json_schema(model: type[Message]) -> dict:
    """``model``'s JSON Schema with its ``$defs`` written in place, so it stands alone in the
    OpenAPI document (no component names to collide with another model's)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                siblings = {key: value for key, value in node.items() if key != "$ref"}
                return resolve({**definitions[reference.removeprefix("#/$defs/")], **siblings})
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def _problem_response(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": {"type": "object"}}}}


def event_openapi(model: type[Message], example: dict, max_body_bytes: int, *, correlation_header: str) -> dict:
    """The request body, headers and answers of an event route, for ``/docs``."""
    answer = {
        "type": "object",
        "properties": {
            "event_id": {"type": "string"},
            "job_id": {"type": "string"},
            "status": {"type": "string", "enum": [status.value for status in JobStatus]},
            "duplicate": {"type": "boolean"},
        },
        "required": ["event_id", "job_id", "status"],
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_json_schema(model), "example": example}},
        },
        "parameters": [
            {
                "name": "X-API-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "one of INGRESS_API_KEYS, when that is set",
            },
            {
                "name": correlation_header,
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "follows the event into the logs; one is made up when absent",
            },
        ],
        "responses": {
            "202": {"description": "Accepted: the job is enqueued", "content": {"application/json": {"schema": answer}}},
            "200": {
                "description": "The same event_id again: the original job, its status now, and `duplicate: true`",
                "content": {"application/json": {"schema": answer}},
            },
            "401": _problem_response("Missing or wrong X-API-Key"),
            "413": _problem_response(f"Body over {max_body_bytes} bytes"),
            "422": _problem_response("Invalid event: `errors` lists each problem, or `detail` says why"),
            "503": _problem_response(
                "Not recorded (the broker did not confirm, or the database is down): retry after `Retry-After` s"
            ),
        },
    }
