"""The ``serve`` supervisor: one session that loads, starts, watches, reloads and stops the mocks."""
