"""Bundled tweet classifiers (filled in below)."""
