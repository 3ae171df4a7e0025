"""QuantDesk resources package."""
