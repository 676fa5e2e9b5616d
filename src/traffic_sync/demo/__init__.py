"""The simulated GitHub: its world, REST and GraphQL answers, on 127.0.0.1.

Tests, benchmarks and the `traffic-sync demo` command (cli_demo.py, an entry module) run
against it. May import every folder up to `stages`; it needs none of them today.

- `traffic`: the simulated repos (`SimRepo`, `demo_world`) and their true traffic, pure.
- `world`: the mutable world (`SimWorld`): clock, accounts, tokens, stars, assets, budgets.
- `rest`: the REST routes, endpoints and JSON shapes.
- `simgraphql`: the GraphQL reader, executor and the `POST /graphql` endpoint.
- `server`: `SimulatedGitHub`, the world served over HTTP, with injected failures.

Its public names are imported from here.
"""

from traffic_sync.demo.server import Request, SimulatedGitHub
from traffic_sync.demo.traffic import SimRepo, demo_world

__all__ = ["Request", "SimRepo", "SimulatedGitHub", "demo_world"]
