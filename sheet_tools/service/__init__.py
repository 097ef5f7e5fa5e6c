"""The running service: ingesting one file, the inbox watcher (claims, observer, stability, the
summaries it owes), configuration, and the operations that span stages (withdrawing and restoring
a return, which rebuild summaries; the carry-forward lookup)."""
