"""The simulator's aiohttp application, startable in-process (port 0 for tests) or from the command line."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from aiohttp import web

from infrastructure.simulator import binance, combined, streams, upbit
from infrastructure.simulator.private import routes as private_routes
from infrastructure.simulator.private.exchange import PRIVATE, PrivateExchange
from infrastructure.simulator.state import STATE, SimulatorConfig, SimulatorState


@web.middleware
async def _gate(request: web.Request, handler: Any) -> web.StreamResponse:
    """REST routes pass their exchange's faults and rate limits; websockets go straight through."""
    if private_routes.is_private(request.path):
        return await private_routes.private_gate(request, handler)
    if request.path.startswith("/v1/"):
        return await upbit.gate(request, handler)
    if request.path.startswith("/fapi/"):
        return await binance.gate(request, handler)
    return await handler(request)


def build_app(config: SimulatorConfig) -> web.Application:
    app = web.Application(middlewares=[_gate])
    app[STATE] = SimulatorState(config)
    private_routes.add_routes(app)
    upbit.add_routes(app)
    binance.add_routes(app)
    streams.add_routes(app)
    combined.add_routes(app)
    return app


class SimulatorServer:
    """`async with SimulatorServer(config) as sim: sim.url` — a running simulator on 127.0.0.1."""

    def __init__(self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SimulatorConfig()
        self.host = host
        self.port = port
        self.app = build_app(self.config)
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def state(self) -> SimulatorState:
        return self.app[STATE]

    @property
    def private(self) -> PrivateExchange:
        """The private side: accounts, matching, scripted order faults (tests)."""
        return self.app[PRIVATE]

    async def start(self) -> str:
        """Bind and serve; returns the base URL (http://host:port)."""
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and isinstance(server, asyncio.base_events.Server)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()


async def serve_forever(config: SimulatorConfig, host: str, port: int, announce: Any = print) -> None:
    """Run until cancelled (Ctrl+C)."""
    async with SimulatorServer(config, host, port) as sim:
        announce(f"exchange simulator listening on {sim.url}  (Upbit: {sim.url}/v1/..., "
                 f"Binance: {sim.url}/fapi/v1/..., websockets: /websocket/v1, /ws/<symbol>@kline_<interval>, "
                 "/ws/<symbol>@markPrice, /stream?streams=<a>/<b>)")
        for spec in config.accounts:
            held = ", ".join(f"{c} {v:,.8g}" for c, v in spec.balances.items())
            announce(f"private APIs: an account with {held}; signed requests checked as the exchanges do "
                     f"(user streams: /ws/<listenKey>, /websocket/v1/private)")
        await asyncio.Event().wait()
