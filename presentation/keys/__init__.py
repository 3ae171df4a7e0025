"""Settings → Exchange keys: the API key dialog."""
