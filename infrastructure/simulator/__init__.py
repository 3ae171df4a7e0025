"""Exchange simulator: Upbit and Binance REST and websockets over a deterministic seeded market."""

from infrastructure.simulator.faults import ALL_FAULTS, DEFAULT_FAULTS
from infrastructure.simulator.funding import simulator_funding
from infrastructure.simulator.market import LISTING_MS, SYMBOLS
from infrastructure.simulator.server import SimulatorServer, build_app, serve_forever
from infrastructure.simulator.state import (
    SimulatorConfig,
    accelerated_clock,
    fixed_clock,
    simulator_candles,
    wall_clock_ms,
)

__all__ = [
    "ALL_FAULTS", "DEFAULT_FAULTS", "LISTING_MS", "SYMBOLS", "SimulatorConfig", "SimulatorServer",
    "accelerated_clock", "build_app", "fixed_clock", "serve_forever", "simulator_candles", "simulator_funding",
    "wall_clock_ms",
]
