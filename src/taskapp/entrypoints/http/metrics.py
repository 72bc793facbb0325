"""Prometheus metrics: requests by route template and status, latency, database pool use.

Each app instance has its own registry (no global state), read by GET /metrics. With
several worker processes, each worker reports its own figures (see README, Scaling out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from taskapp.entrypoints.http.scopes import Access

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "taskapp_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "taskapp_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._pool: _PoolCollector | None = None
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # The labelled children are looked up once per (method, route, status): the
        # client library's own lookup takes a lock and builds a key on every call.
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._children[key] = children
        counter, histogram = children
        counter.inc()
        histogram.observe(seconds)

    def watch_pool(self, gauges: Callable[[], dict[str, int]]) -> None:
        """Report the database pool's figures (read at each scrape from `gauges`)."""
        if self._pool is not None:
            self.registry.unregister(self._pool)
        self._pool = _PoolCollector(gauges)
        self.registry.register(self._pool)


_POOL_READINGS = {
    "size": "configured pool size",
    "open": "connections open",
    "in_use": "connections in use",
    "idle": "idle connections in the pool",
    "waiting": "requests waiting for a connection",
}


class _PoolCollector(Collector):
    def __init__(self, gauges: Callable[[], dict[str, int]]) -> None:
        self._gauges = gauges

    def collect(self) -> Iterator[Metric]:
        readings = self._gauges()
        for name, help_text in _POOL_READINGS.items():
            yield GaugeMetricFamily(
                f"taskapp_db_pool_{name}", help_text, value=readings.get(name, 0)
            )


@get("/metrics", include_in_schema=False, sync_to_thread=False, scope=Access.PUBLIC)
def metrics_endpoint(state: State) -> Response[bytes]:
    """Prometheus text exposition format."""
    metrics: HttpMetrics = state.metrics
    return Response(
        generate_latest(metrics.registry),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )
