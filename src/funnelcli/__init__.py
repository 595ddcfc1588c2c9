"""funnelcli: funnel analysis for B2B CRM exports, from a YAML definition, on DuckDB."""

__version__ = "0.1.0"
