"""QuantDesk presentation package."""
