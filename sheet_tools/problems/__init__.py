"""Problems found in a returned file: the registry of codes (severity, title, wording, advice),
the issue and report models, and every way a report is shown to a person."""
