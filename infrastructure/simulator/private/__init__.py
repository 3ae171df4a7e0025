"""The simulator as a private-API exchange: signed orders, accounts, positions and user-data streams."""
