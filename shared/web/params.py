"""Numbers a route takes from the URL, bounded to what the database can compare: an unbounded
``int`` lets ``?offset=99999999999999999999999`` reach SQLite or PostgreSQL, which refuse it
(an OverflowError, "bigint out of range"), and the answer would be a 500 instead of a 422."""

from typing import Annotated

from fastapi import Path, Query

#: Far past any page a person reads, and inside every database's integer range.
MAX_OFFSET = 2**31 - 1
#: A row id: positive, and inside a 64-bit integer column.
MAX_ROW_ID = 2**63 - 1

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
