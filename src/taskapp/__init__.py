"""taskapp: an async, hexagonal task-management API.

`taskapp.domain` is importable on its own (standard library only) by other services.
"""

__version__ = "0.1.0"
