"""Redis adapters (optional: used when REDIS_URL is set)."""
