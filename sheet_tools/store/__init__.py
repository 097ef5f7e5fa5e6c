"""The SQLite store: ``Store`` (in ``facade``) and the records it hands out."""

from .facade import Store
from .records import Correction, Event, Rejection, StoredReturn

__all__ = ["Correction", "Event", "Rejection", "Store", "StoredReturn"]
