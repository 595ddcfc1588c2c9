"""The `funnel` command: a thin typer layer that parses options, calls commands/, renders.

Exit codes: 0 ok · 1 data, spec or runtime error · 2 usage error · 3 an alert condition was met.
Each module registers its commands on `app` when imported; the order below is the order of
`funnel --help`.
"""

# ruff: noqa: I001  (import order = command order in --help)
from funnelcli.cli.root import app, main
from funnelcli.cli import init, report, sample, periodic, roi, lists, cache  # noqa: F401  (registers commands)
from funnelcli.cli import conventions

# Last, after every command module: --quiet/--verbose on each registered command.
conventions.apply(app)

__all__ = ["app", "main"]
