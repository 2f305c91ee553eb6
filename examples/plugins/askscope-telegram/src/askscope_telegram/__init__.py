"""askscope-telegram: an askscope plugin that reads Telegram Desktop's JSON export of a channel
or group, adds a ``telegram`` lens and a "Telegram" report section (see README.md)."""

__version__ = "0.1.0"
