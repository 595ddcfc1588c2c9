"""Versioned, frozen, JSON-ready artifacts that every renderer reads."""
