"""What several test modules share: building returns, a trust's workspace driven through
the CLI, hostile and damaged files, the real applications, and reference comparisons."""
