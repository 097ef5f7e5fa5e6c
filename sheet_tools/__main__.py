"""``python -m sheet_tools``: the ``sheet-tools`` command, for when the script is not on PATH."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="sheet-tools")
