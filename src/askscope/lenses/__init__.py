"""Metric computations shared by the lenses and the report."""
