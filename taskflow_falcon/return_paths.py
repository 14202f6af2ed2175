"""Where the browser goes after signing in: a page of this site, never another site."""

from __future__ import annotations

import urllib.parse

PAGES = "/ui"
HOME = "/ui/"


def local_path(value: str | None) -> str:
    """``value`` when it is a path of the pages on this server, else the inbox: the return
    address after signing in must not send the browser elsewhere (an open redirect)."""
    if not value:
        return HOME
    # Browsers drop tabs and newlines from a Location, and read a backslash as a slash.
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        return HOME
    # Decoded until nothing changes, so that no encoding (%2F%2F, %252F...) hides a host.
    decoded, previous = value, None
    while decoded != previous:
        previous, decoded = decoded, urllib.parse.unquote(decoded)
    for text in (value, decoded):
        if "\\" in text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            return HOME
        if any(part in (".", "..") for part in urllib.parse.urlsplit(text).path.split("/")):
            return HOME
        if text.startswith("//") or not (text == PAGES or text.startswith(PAGES + "/")):
            return HOME
        parts = urllib.parse.urlsplit(text)
        if parts.scheme or parts.netloc:
            return HOME
    return value
