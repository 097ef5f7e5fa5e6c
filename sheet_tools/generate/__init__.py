"""Workbooks sheet-tools writes for schools to fill in: the issued workbook from a framework
definition (carried-forward rounds included), and the annotated copy of a rejected return."""
