"""Trade marks for the chart: entries, exits and liquidations, with the text their tooltip shows."""

from __future__ import annotations

from presentation.chart.widget import Marker

LIQUIDATION_KIND = "liquidation"


def liquidation_text(price: float) -> str:
    """The tooltip of a liquidation mark: where the position was taken over."""
    return f"liquidation at {price:,.8g}"


def fill_marker(ts: int, price: float, side: int, action: str, reason: str, label: str = "") -> Marker:
    """A fill as a chart mark: `side` is the order's side (+1 buy, −1 sell), `action` "open" or "close"; a close
    with reason "liquidation" gets its own mark and says so. `label` prefixes the tooltip (e.g. "#3 exit")."""
    if action == "open":
        kind = "long_entry" if side > 0 else "short_entry"
    elif reason == "liquidation":
        return Marker(ts, price, LIQUIDATION_KIND, f"{label}: {liquidation_text(price)}" if label else
                      liquidation_text(price))
    else:
        kind = "long_exit" if side < 0 else "short_exit"
    text = f"{reason} @ {price:,.8g}"
    return Marker(ts, price, kind, f"{label}: {text}" if label else text)
