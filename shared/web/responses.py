"""What the response models of every route share.

A route declares the model it answers with, so ``/openapi.json`` (and ``/docs``) shows each shape.
``Timestamp`` keeps the format the API has always written, ``datetime.isoformat()``
(``2026-11-24T06:00:00+00:00``): pydantic's own would end a UTC time in ``Z``.
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ResponseModel(BaseModel):
    """An answer's shape; read from the attributes of what a store returns (a row, a view)."""

    model_config = ConfigDict(from_attributes=True)
