"""The `funnel` command: thin typer layer that parses options, calls the library, picks a renderer.

Exit codes: 0 ok · 1 data, spec or runtime error · 2 usage error · 3 an alert condition was met.
Each module registers its commands on `app` when imported; the order below is the order of
`funnel --help`.
"""

# ruff: noqa: I001  (import order = command order in --help)
from funnelcli.cli._base import app, main
from funnelcli.cli import funnel, periodic, money, cache  # noqa: F401  (registers commands)
from funnelcli.cli.funnel import _query_progress

__all__ = ["_query_progress", "app", "main"]
