"""QuantDesk domain package."""
