"""Live trading on the websocket feed: streams, event bus, bars, sessions, journal, audit and metrics."""
