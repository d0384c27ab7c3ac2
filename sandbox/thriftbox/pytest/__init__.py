"""The ``thriftbox`` pytest plugin. Kept import-light: nothing is imported here."""
