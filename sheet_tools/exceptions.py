"""The library's exceptions, all under one base so a caller (the CLI) catches one class.

Each carries a message written for the person running the command, never a traceback. Problems
in a returned workbook are not exceptions: they are ``report.Issue`` values with a code.
"""


class SheetToolsError(Exception):
    """Base class: something sheet-tools cannot do, said in plain words."""


class FrameworkError(SheetToolsError):
    """A definition file that cannot be used; the message names the file and the field."""


class RosterError(SheetToolsError):
    """A roster (or a school given on the command line) that cannot be used."""


class GenerateError(SheetToolsError):
    """A workbook that could not be written."""


class ConfigError(SheetToolsError):
    """A settings file or variable that cannot be used; the message says which and why."""


class StoreError(SheetToolsError):
    """The database cannot be used; the message says why in plain words."""


class SummariseError(SheetToolsError):
    """Summaries could not be built; the message says why in plain words."""


class RoundError(SheetToolsError):
    """A new review round's name that is not a term and year nor a declared round."""


class WorkspaceError(SheetToolsError):
    """A folder that is not a workspace, or a missing inbox or outbox: the message names
    ``sheet-tools init``."""


class ServiceFault(SheetToolsError):
    """The service itself cannot work just now (the disk is full, a disk error, a damaged
    database): never the fault of the file in hand, which is left where it is to be tried again."""


class DatabaseDamaged(StoreError):
    """The database fails SQLite's own check (a torn page, a damaged file)."""


class DatabaseMissing(StoreError):
    """The database vanished or was replaced under a running service, or a new one would be made
    beside an archive that already holds returns."""
