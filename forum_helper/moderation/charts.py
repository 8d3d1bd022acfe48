"""Geometry for the dashboard's inline SVG charts (rendered by the template, so labels are escaped)."""
from dataclasses import dataclass
from typing import Any

SEVERITY_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#7f8c8d"}


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    max_value: int


def stacked_days_chart(per_day: list[tuple[Any, dict[str, int]]], *, width: int = 900, height: int = 220) -> Chart:
    plot_height = height - 30
    slot = width / max(1, len(per_day))
    max_value = max([sum(c.values()) for _, c in per_day] + [1])
    bars, labels = [], []
    for index, (day, counts) in enumerate(per_day):
        y = plot_height
        for severity in ("low", "medium", "high"):
            value = counts.get(severity, 0)
            if not value:
                continue
            bar_height = value / max_value * (plot_height - 10)
            y -= bar_height
            bars.append(Bar(index * slot + 2, y, slot - 4, bar_height, SEVERITY_COLOURS[severity],
                            f"{day:%Y-%m-%d} {severity}: {value}"))
        if index % 5 == 0:
            labels.append(Label(index * slot + 2, height - 10, f"{day:%m-%d}"))
    return Chart(width, height, bars, labels, max_value)


def simple_bar_chart(rows: list[tuple[str, int]], *, width: int = 500, height: int = 200,
                     colour: str = "#2456c8") -> Chart:
    plot_height = height - 30
    slot = width / max(1, len(rows))
    max_value = max([value for _, value in rows] + [1])
    bars, labels = [], []
    for index, (label, value) in enumerate(rows):
        bar_height = value / max_value * (plot_height - 10)
        bars.append(Bar(index * slot + 6, plot_height - bar_height, slot - 12, bar_height, colour, f"{label}: {value}"))
        labels.append(Label(index * slot + 6, height - 10, f"{label} ({value})"))
    return Chart(width, height, bars, labels, max_value)
