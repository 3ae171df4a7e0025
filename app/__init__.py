"""QuantDesk app package."""
