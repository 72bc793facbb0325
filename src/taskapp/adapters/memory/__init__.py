"""In-memory implementations of the ports: for unit tests and for library users."""
