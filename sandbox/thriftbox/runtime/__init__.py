"""Where mock hosts run: local processes or one Docker container per service (see :mod:`.base`)."""
