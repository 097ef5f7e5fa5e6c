"""Where things sit in a generated workbook: the contract between the generator and the reader.

Identity lives in cell contents, because other applications re-saving a file may drop document
properties (Gnumeric) or unhide hidden sheets. Column A of every sheet holds ids; the About sheet
holds the template id and version as key/value rows.
"""

from __future__ import annotations

COVER_SHEET = "Cover"
ABOUT_SHEET = "About"
LISTS_SHEET = "Lists"

MARKER = "sheet-tools workbook"
KEY_TEMPLATE = "template_id"
KEY_VERSION = "template_version"
KEY_GENERATED = "generated_at"
# The issued identity: who and what this workbook was made for.
KEY_ISSUE_ID = "issue_id"
KEY_ROUND = "round"
KEY_SCHOOL = "school"
KEY_URN = "urn"
KEY_TRUST = "trust"
KEY_ISSUED_TO = "issued_to"
SHEET_KEY_PREFIX = "sheet:"

ID_COL = 1  # column A: statement, box and cover-field ids
COVER_LABEL_COL = 2
COVER_VALUE_COL = 3  # column C: the cover answer
COVER_HELP_COL = 4
STATEMENT_COL = 2  # column B: the statement text
JUDGEMENT_COL = 3  # column C on a judged sheet
BOX_VALUE_COL = 2  # column B: a free-text box's answer, in the row holding its id

TITLE_ROW = 1
HEADER_ROW = 3
FIRST_ROW = HEADER_ROW + 1
ID_HEADER = "ID"
JUDGEMENT_HEADER = "Judgement"

# Excel's limit on an inline data-validation list ("a,b,c"); longer lists go on the Lists sheet.
INLINE_LIST_LIMIT = 255


def first_text_column(judged: bool) -> int:
    """Column number of the first free-text column beside the statements."""
    return JUDGEMENT_COL + 1 if judged else STATEMENT_COL + 1


# A carried-forward workbook (``generate --carry-forward``): the earlier round's level in a locked
# "Last round" column just after the judgement column, which moves the free-text columns one to the
# right; the About sheet says so (KEY_LAST_ROUND_COLUMN), so older workbooks read as before.
KEY_CARRIED_FROM = "carried_from"
KEY_LAST_ROUND_COLUMN = "last_round_column"
LAST_ROUND_COL = JUDGEMENT_COL + 1  # column D
LAST_ROUND_HEADER = "Last round"
# The action plan sheet: one row per action, its id in column A (carried "A01"..., the school's
# own "S01"...), found by the About sheet's KEY_ACTION_PLAN row (its name), else ACTION_SHEET_ID
# in A1.
KEY_ACTION_PLAN = "action_plan"
ACTION_SHEET = "Action plan"
ACTION_SHEET_ID = "actions"
ACTION_COLS = {"action": 2, "area": 3, "owner": 4, "due": 5, "status": 6, "note": 7}
ACTION_HEADERS = ("ID", "Action", "Area", "Owner", "Due date", "Status", "Progress note")


def text_column(judged: bool, last_round: bool) -> int:
    """The first free-text column, with or without a Last round column beside the judgement."""
    return first_text_column(judged) + (1 if judged and last_round else 0)
