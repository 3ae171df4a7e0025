"""QuantDesk commands package."""
