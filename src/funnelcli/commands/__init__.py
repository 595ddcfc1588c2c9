"""One library entry point per command; the only place that opens an engine."""
