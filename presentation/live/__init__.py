"""The Live tab: paper sessions on the live feed, their chart, positions, orders and the Monitor panel."""
