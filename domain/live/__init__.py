"""Live trading in the domain: bars from trades, and the paper broker."""
