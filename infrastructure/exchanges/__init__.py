"""Exchange adapters (Upbit, Binance, the Demo simulator) implementing the ExchangeGateway port."""

from infrastructure.exchanges.registry import ExchangeGateways

__all__ = ["ExchangeGateways"]
