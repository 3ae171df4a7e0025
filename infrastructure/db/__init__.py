"""QuantDesk db package."""
