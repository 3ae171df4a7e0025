"""Sample strategies bundled with QuantDesk, loaded into an empty database on first start."""
