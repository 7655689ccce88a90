"""What a test server received, and a way to wait for it without sleeping."""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class Mailbox(Generic[Item]):
    """A thread-safe list that server threads append to and test threads wait on."""

    def __init__(self, describe: Callable[[Item], str] = repr) -> None:
        self._items: list[Item] = []
        self._changed = threading.Condition()
        self._describe = describe

    def add(self, item: Item) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def items(self) -> list[Item]:
        with self._changed:
            return list(self._items)

    def clear(self) -> None:
        with self._changed:
            self._items.clear()

    def wait_for(
        self, predicate: Callable[[Item], bool] | None = None, count: int = 1, timeout: float = 10.0
    ) -> list[Item]:
        """The items matching ``predicate`` once there are at least ``count`` of them.

        Raises AssertionError after ``timeout`` seconds, listing everything that did arrive so
        the failure explains itself.
        """
        def matching() -> list[Item]:
            return [item for item in self._items if predicate is None or predicate(item)]

        with self._changed:
            if self._changed.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                return matching()
            received = "\n  ".join(self._describe(item) for item in self._items) or "(nothing)"
            raise AssertionError(
                f"waited {timeout}s for {count} matching item(s), found {len(matching())}; "
                f"received {len(self._items)}:\n  {received}"
            )
