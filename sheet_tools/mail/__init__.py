"""E-mail back to schools and trusts: who is told what (``addressing``), the wording
(``messages.toml``, ``compose``) and sending what the store has queued (``sender``)."""
