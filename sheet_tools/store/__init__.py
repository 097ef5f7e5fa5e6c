"""The SQLite store: schema and migrations, the event journal, returns, rejections and
corrections. Always on a local disk (SQLite's locking does not work over SMB or NFS)."""
