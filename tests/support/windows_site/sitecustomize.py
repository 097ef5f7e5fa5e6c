"""Started with ``SHEET_TOOLS_TEST_AS_WINDOWS=1``: this process refuses the POSIX-only calls
(``tests.support.windows``) before anything else is imported."""

import os

if os.environ.get("SHEET_TOOLS_TEST_AS_WINDOWS") == "1":
    from tests.support.windows import refuse_posix

    refuse_posix()
