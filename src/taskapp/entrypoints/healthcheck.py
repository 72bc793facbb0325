"""`python -m taskapp.entrypoints.healthcheck`: exit 0 when this container's API answers
/health/ready with 200, else 1. Reads HOST and PORT like the server, so a container
healthcheck follows PORT wherever it is set."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from taskapp.config import ConfigError, load_settings

_ANY_ADDRESS = {"0.0.0.0", "::", "", "localhost"}  # noqa: S104 - compared, never bound


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"unhealthy: configuration error: {error}", file=sys.stderr)
        return 1
    host = "127.0.0.1" if settings.host in _ANY_ADDRESS else settings.host
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{settings.port}/health/ready"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
