"""SYNTHETIC data generators (clearly labelled; never evidence about real campaigns)."""
