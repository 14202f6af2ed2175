"""Following the change feed: long polls from a cursor, forever, resuming after failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from .errors import ClientError, Unauthorized
from .transport import Backoff

logger = logging.getLogger(__name__)

# A page is as many items as a long poll brings at once (the server's most).
PAGE = 1000
# Asking again after an empty page when the caller asked for no wait: not in a tight loop.
IDLE_SECONDS = 1.0

Page = Callable[[str | None, int, float], tuple[dict[str, Any], float]]


def follow(
    page: Page,
    after: str | None,
    wait: float,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """Yield every item after ``after`` in commit order, asking ``page(cursor, limit, wait)``
    again and again. A failure of the way there (``ClientError``: no connection, a 5xx,
    an answer that is no taskflow answer) is waited out with bounded backoff and the same
    cursor asked again, so nothing is skipped or repeated; an error of the request itself (a
    cursor the feed never gave, the feed off, a refused token) is raised."""
    cursor = after
    failures = 0
    while True:
        try:
            body, retry_after = page(cursor, PAGE, wait)
        except Unauthorized:
            raise
        except ClientError as error:
            delay = backoff.delay(failures)
            failures += 1
            logger.warning("Reading the change feed failed: %s; again in %.1f s", error, delay)
            sleep(delay)
            continue
        failures = 0
        items: list[dict[str, Any]] = body["data"]
        for item in items:
            # Moved on before the item is handed over: resuming after it never repeats it.
            cursor = item["cursor"]
            yield item
        if body["meta"].get("next") is not None:
            cursor = body["meta"]["next"]
        if not items:
            # A server out of waiting threads says when to ask again; no wait asked: idle.
            pause = retry_after or (0.0 if wait else IDLE_SECONDS)
            if pause:
                sleep(pause)
