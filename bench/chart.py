#!/usr/bin/env python3
"""Draws requests/s and p99 latency per server side by side, from the table bench/http.sh
prints, as a dependency-free SVG.

    bench/http.sh | tee bench/results/http.txt
    python3 bench/chart.py bench/results/http.txt bench/results/http.svg
"""
import math
import re
import sys

LABELS = {
    "bare": "axum (bare)",
    "manual": "axum, verify by hand",
    "verify": "axum + VerifyLayer",
    "webhook": "axum + WebhookLayer",
    "actix-bare": "actix-web (bare)",
    "actix-webhook": "actix + QuickAssistWebhooks",
    "express": "Express, provider's snippet",
}


def parse(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        parts = line.split()
        if len(parts) >= 5 and parts[0] in LABELS:
            rows.append((parts[0], float(parts[1]), to_ms(parts[3])))
    return rows


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


LABEL_WIDTH = 215  # room for the longest label at 12 px
VALUE_WIDTH = 80  # room for the value printed after a bar


def bars(rows, index, x0, width, title, unit, colour, log=False):
    """One panel of horizontal bars. With `log`, bar lengths follow log10 of the values from
    a tenth of the smallest one, so that values three orders of magnitude apart all show."""
    values = [row[index] for row in rows]
    if log:
        floor = min(v for v in values if v > 0) / 10
        scale = [math.log10(max(v, floor) / floor) for v in values]
    else:
        scale = values
    top = max(scale) or 1
    span = width - LABEL_WIDTH - VALUE_WIDTH
    out = [f'<text x="{x0}" y="24" font-size="15" font-weight="bold">{title}</text>']
    for i, row in enumerate(rows):
        y = 44 + i * 34
        w = span * scale[i] / top
        out.append(f'<text x="{x0}" y="{y + 15}" font-size="12">{LABELS[row[0]]}</text>')
        out.append(f'<rect x="{x0 + LABEL_WIDTH}" y="{y}" width="{w:.1f}" height="22" fill="{colour}"/>')
        value = f"{row[index]:,.0f}" if unit == "req/s" else f"{row[index]:.2f} ms"
        out.append(f'<text x="{x0 + LABEL_WIDTH + 5 + w:.1f}" y="{y + 15}" font-size="12">{value}</text>')
    return out


def main():
    source, target = sys.argv[1], sys.argv[2]
    rows = parse(source)
    height = 60 + 34 * len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="{height}" font-family="sans-serif">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    parts += bars(rows, 1, 10, 560, "Requests per second (higher is better)", "req/s", "#3b7dd8")
    parts += bars(
        rows, 2, 580, 510, "p99 latency (lower is better, log scale)", "ms", "#d8703b", log=True
    )
    parts.append("</svg>")
    with open(target, "w", encoding="utf-8") as out:
        out.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
