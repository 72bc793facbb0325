"""The load benchmark (see bench/README)."""
