"""Two-space JSON that knows on which line each value starts.

The editor marks a problem on the line of the field it is about. The router
names fields by JSON path (``$.rules[2].pattern.type``); serialising the
document here, exactly as ``json.dumps(indent=2)`` would, records the line
of every path on the way.
"""

import json
from typing import Any

from router.problems import child_path


def dumps_with_lines(value: Any) -> tuple[str, dict[str, int]]:
    """The text of ``json.dumps(value, indent=2)`` and each path's line (1-based)."""
    lines: list[str] = []
    where: dict[str, int] = {}

    def emit(item: Any, path: str, depth: int, head: str, tail: str) -> None:
        where[path] = len(lines) + 1
        pad = "  " * depth
        if isinstance(item, dict) and item:
            lines.append(f"{pad}{head}{{")
            members = list(item.items())
            for number, (key, child) in enumerate(members):
                comma = "," if number < len(members) - 1 else ""
                name = json.dumps(str(key), ensure_ascii=False)
                emit(child, child_path(path, str(key)), depth + 1, f"{name}: ", comma)
            lines.append(f"{pad}}}{tail}")
        elif isinstance(item, list) and item:
            lines.append(f"{pad}{head}[")
            for number, child in enumerate(item):
                comma = "," if number < len(item) - 1 else ""
                emit(child, child_path(path, number), depth + 1, "", comma)
            lines.append(f"{pad}]{tail}")
        else:
            lines.append(f"{pad}{head}{json.dumps(item, ensure_ascii=False)}{tail}")

    emit(value, "$", 0, "", "")
    return "\n".join(lines) + "\n", where


def line_of(path: str, where: dict[str, int]) -> int | None:
    """The line of a path, or of its nearest ancestor that has one."""
    while path:
        if path in where:
            return where[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return where.get("$")
