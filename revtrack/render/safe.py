"""Make article text harmless to print: control characters become visible escapes.

ESC (ANSI/OSC sequences), BEL, backspace, carriage return, DEL, the C1 controls
and the bidirectional overrides that can reorder what a reader sees are shown
as ``\\x1b``-style escapes. Newlines and tabs are layout and stay.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

_UNSAFE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with control characters replaced by visible escapes."""
    return _UNSAFE.sub(_escape, text)


_JSON_UNSAFE: Final = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def to_json(data: Any) -> str:
    """JSON text with every control character escaped (json escapes only those below 0x20)."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
