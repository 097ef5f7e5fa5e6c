"""What a review is made of, kept as data: frameworks and their scale, rounds, the roster of
schools, what a carried-forward round brings, and where each answer sits in a workbook."""
