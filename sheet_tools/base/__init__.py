"""Helpers every stage may use and that use nothing of the pipeline: files written atomically,
safe names, the one clock, every identity key, column letters, network-share detection and the
workspace's folders."""
