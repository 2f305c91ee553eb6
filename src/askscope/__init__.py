"""askscope: evidence for public Q&A and hashtag campaigns."""

__version__ = "0.1.0"
