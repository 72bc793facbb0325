"""Adapters: the outside world (PostgreSQL, Argon2, JWT, clocks) behind the domain's ports."""
