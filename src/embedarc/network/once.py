"""Single-flight: when several threads want the same thing at once, only one fetches it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Once:
    """Single-flight: the first caller for a key computes, the others wait for its answer.

    A failure is shared with those already waiting but not remembered, so a retry asks again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}

    def __call__(
        self, key: str, compute: Callable[[], T], keep: Callable[[T], bool] = lambda _: True
    ) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                result = compute()
                future.set_result(result)
                kept = keep(result)
            except BaseException as e:
                future.set_exception(e)
                kept = False
            if not kept:
                with self._lock:
                    self._futures.pop(key, None)
        return future.result()  # type: ignore[no-any-return]
