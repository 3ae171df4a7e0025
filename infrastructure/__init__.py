"""QuantDesk infrastructure package."""
