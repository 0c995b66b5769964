"""Geometry for the dashboard's inline SVG charts; the template draws them."""

from dataclasses import dataclass

WIDTH = 480
HEIGHT = 140
BAR_HEIGHT = 18


@dataclass(frozen=True)
class Column:
    label: str
    value: int
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


def columns(values: list[tuple[str, int]], height: int = HEIGHT) -> dict:
    """Vertical bars, one per value, scaled to the largest."""
    top = max((v for _, v in values), default=0) or 1
    slot = WIDTH // max(len(values), 1)
    drawn = []
    for number, (label, value) in enumerate(values):
        bar = round(value / top * (height - 20))
        drawn.append(
            Column(label, value, number * slot + 2, height - 14 - bar, slot - 4, bar)
        )
    return {"columns": drawn, "width": WIDTH, "height": height, "max": top}


def bars(values: list[tuple[str, int]], width: int = WIDTH) -> dict:
    """Horizontal bars with their labels, scaled to the largest."""
    top = max((v for _, v in values), default=0) or 1
    drawn = [
        Bar(label, value, number * (BAR_HEIGHT + 6), round(value / top * width * 0.5))
        for number, (label, value) in enumerate(values[:15])
    ]
    return {
        "bars": drawn,
        "width": width,
        "height": max(len(drawn), 1) * (BAR_HEIGHT + 6),
        "offset": round(width * 0.45),
    }
