"""Real orders: client ids journaled before sending, exchange-held stops, the kill switch, reconciliation."""
