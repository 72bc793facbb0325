"""Use cases, one module per capability. They take plain values and return domain objects."""
