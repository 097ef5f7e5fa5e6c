"""sheet-tools: the Excel round trip of school SEND provision reviews."""

__version__ = "0.1.0"
