"""Numbers in JSON text as JavaScript's ``JSON.stringify`` writes them, as the original's
answers did (SPEC §3): ``1e+21`` where Python writes ``1e21`` as an integer of 22 digits
(PostgreSQL's jsonb keeps numbers so), ``1`` for ``1.0``, ``1e-7`` for ``1e-07``,
``0.00001`` for ``1e-05``. An integer that is not exactly what a double holds keeps every
digit (beyond: JavaScript would round it).

It rewrites JSON text rather than the values: answers come as text from PostgreSQL too
(taskflow_postgres/listing.py), and Python's C encoder writes every float as ``repr`` does.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

# What a number JavaScript writes otherwise looks like, in the text Python's encoder or
# PostgreSQL's jsonb writes: a fraction ending in 0 ("1.0", jsonb's "1.50"), an exponent as
# Python writes one ("1e-07", "1e+16"; jsonb writes none), six zeros after the point
# (jsonb's 0.0000001), or an integer of 1e21 or more that a double holds, whose digits end
# in five zeros at least (a double has at most 17 significant digits), each up to where a
# number ends. Each pattern starts with a literal, which the regex engine finds fast; one
# alternation of them would cost several times as much. Text in a string can match too
# (rarely: a timestamp's "00.000Z" does not); the full pass then tells strings apart.
_SUSPECTS = tuple(
    re.compile(pattern)
    for pattern in (r"\.\d*0[,\]}\s]", r"e[+-]\d+[,\]}\s]", r"0\.000000", r"00000[,\]}\s]")
)
# A string (skipped as it is) or a number, as JSON spells them.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?')
# JavaScript writes a number's digits in full below 1e21 and from 1e-6, else with exponent.
_MAX_PLAIN = 21
_MIN_PLAIN = -6


def as_javascript(text: str) -> str:
    """``text`` (valid JSON) with its numbers written as ``JSON.stringify`` writes them."""
    if not any(suspect.search(text) for suspect in _SUSPECTS):
        return text  # the common case: nothing to rewrite, a few scans in C
    return _TOKEN.sub(_rewrite, text)


def _rewrite(match: re.Match[str]) -> str:
    token = match.group()
    return token if token[0] == '"' else number(token)


def number(token: str) -> str:
    """One JSON number as JavaScript writes the value it reads from it."""
    integral = "." not in token and "e" not in token and "E" not in token
    if integral and len(token.lstrip("-")) <= _MAX_PLAIN:
        return token  # what JavaScript writes too, or, beyond 2**53, every digit kept
    value = float(token)
    if math.isinf(value):
        return token  # beyond any double: kept as it is
    if integral and Decimal(repr(value)) != Decimal(token):
        return token  # an integer a double does not hold exactly: every digit kept
    return _javascript(value)


def _javascript(value: float) -> str:
    """Number::toString (ECMA-262): the shortest digits that read back as ``value`` (which
    ``repr`` finds too), placed by where the decimal point falls."""
    if value == 0:
        return "0"  # -0 included, as JSON.stringify writes it
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    digits = all_digits.lstrip("0")
    # The value is 0.<digits> times 10 ** point.
    point = len(whole) + int(exponent or 0) - (len(all_digits) - len(digits))
    digits = digits.rstrip("0")
    count = len(digits)
    if count <= point <= _MAX_PLAIN:
        return sign + digits + "0" * (point - count)
    if 0 < point <= _MAX_PLAIN:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if _MIN_PLAIN < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    shown = point - 1
    head = digits if count == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{sign}{head}e{'+' if shown > 0 else '-'}{abs(shown)}"
