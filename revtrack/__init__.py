"""revtrack: record every version of a news article in git and show what changed, and when."""

__version__ = "0.1.0"
