"""Timestamps as this store keeps them: text, fixed width, always UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def timestamp(value: datetime) -> str:
    # Fixed width, always UTC ('2026-11-27T08:00:00.123456+00:00'), so that text order is
    # time order in ORDER BY and in the indexes.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)
