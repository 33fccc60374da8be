"""Phone numbers as an SMSC takes them: E.164 (+84...), read the Vietnamese way."""

from __future__ import annotations

import phonenumbers


def e164(raw: object, region: str = "VN") -> str | None:
    """`0912 000 345` -> `+84912000345`; None for no number or one that cannot be a phone."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
