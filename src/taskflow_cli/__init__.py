"""The ``taskflow`` command line."""
