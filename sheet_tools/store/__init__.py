"""The SQLite store: ``Store`` (in ``facade``, over its connection, journal, returns and
corrections) and the records it hands out. Always on a local disk (SQLite's locking does not
work over SMB or NFS)."""

from .facade import Store
from .records import Correction, Event, Rejection, StoredReturn

__all__ = ["Correction", "Event", "Rejection", "Store", "StoredReturn"]
