"""Contacts as vCard files (RFC 6350 text, read leniently as 2.1, 3.0 and 4.0 are all in use).

A contact's address is an ``IMPP`` (``jami:<id>``, ``sip:user@host``); Jami's own clients also
write ``TEL``/``URL`` lines with ``ring:`` or ``jami:``. The speed dial rides in ``X-SPEED-DIAL``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

Table = dict[str, Any]

_JAMI_ID = re.compile(r"^[0-9a-f]{40}$")
MAX_CARDS = 1000


def export(contacts: list[Table]) -> str:
    cards = []
    for contact in contacts:
        lines = [
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"FN:{_escape(contact['name'])}",
            f"N:{_escape(contact['name'])};;;;",
        ]
        uri = contact["uri"]
        if uri:
            lines.append(f"IMPP:{'jami:' + uri if _JAMI_ID.match(uri) else uri}")
        if contact.get("number"):
            lines.append(f"TEL;TYPE=voice:{contact['number']}")
        if contact.get("speed_dial"):
            lines.append(f"X-SPEED-DIAL:{contact['speed_dial']}")
        lines.append("END:VCARD")
        cards.append("\r\n".join(lines) + "\r\n")
    return "".join(cards)


def parse(text: str) -> tuple[list[Table], list[str]]:
    """Contacts found in ``text``, and what was skipped (with why)."""
    contacts: list[Table] = []
    skipped: list[str] = []
    card: Table | None = None
    cards = 0
    for number, raw in enumerate(_unfold(text), 1):
        name, _, value = raw.partition(":")
        key = name.split(";")[0].strip().upper()
        if key == "BEGIN" and value.strip().upper() == "VCARD":
            if cards == MAX_CARDS:
                skipped.append(f"more than {MAX_CARDS} cards: the rest was not read")
                break
            cards += 1
            card = {"name": "", "uri": "", "number": "", "speed_dial": ""}
        elif card is None:
            continue
        elif key == "END":
            if card["name"] and card["uri"]:
                contacts.append(card)
            else:  # a number alone is no address here: the phone reaches Jami IDs and SIP URIs
                skipped.append(
                    f"{card['name'] or 'a card without a name'} (line {number}): no Jami or SIP address"
                )
            card = None
        elif key == "FN":
            card["name"] = printable(_unescape(value.strip()))[:64]
        elif key in ("IMPP", "URL", "TEL") and not card["uri"] and (uri := _address(printable(value))):
            card["uri"] = uri
        elif key == "TEL" and not card["number"] and re.fullmatch(r"[0-9*#]{1,12}", value.strip()):
            card["number"] = value.strip()
        elif key == "X-SPEED-DIAL":
            card["speed_dial"] = value.strip()[:2]
    return contacts, skipped


def printable(text: str) -> str:
    """``text`` without control characters (a folded or escaped newline, a stray NUL), which the
    configuration refuses: a card from another program must not fail the whole import."""
    return " ".join("".join(c if unicodedata.category(c) not in ("Cc", "Cs") else " " for c in text).split())


def _address(value: str) -> str:
    lowered = value.lower()
    for prefix in ("jami:", "ring:"):
        if lowered.startswith(prefix):
            jami = lowered.removeprefix(prefix).removesuffix("@ring.dht")
            return jami if _JAMI_ID.match(jami) else ""
    if lowered.startswith(("sip:", "sips:")):
        return value
    return ""


def _unfold(text: str) -> list[str]:
    """Logical lines: a line starting with a space or tab continues the one before."""
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line[1:]
        elif line:
            lines.append(line)
    return lines


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)
