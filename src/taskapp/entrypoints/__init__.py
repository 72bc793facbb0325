"""Entrypoints: HTTP and the command line. Thin: parse, call a use case, render."""
