"""What fwportal counts for Prometheus: EnOS calls and their latency, the cache and single-flight
answers that spared a call, the bulkhead's refusals, access tokens fetched, HTTP requests.

Only prometheus-client, no Django: the EnOS client counts its calls here. Under gunicorn with
PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it), each worker writes its counts to files
in that directory and /metrics adds up every worker's (firmware/metrics_endpoint.py).
"""

from prometheus_client import Counter, Histogram

ENOS_CALLS = Counter(
    "fwportal_enos_calls",
    "EnOS API calls (token service included), by org slug, operation and outcome",
    ["org", "operation", "outcome"],
)
ENOS_CALL_SECONDS = Histogram(
    "fwportal_enos_call_seconds",
    "How long EnOS API calls took, waiting for a slot included, by org slug and operation",
    ["org", "operation"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
TOKEN_FETCHES = Counter(
    "fwportal_enos_token_fetches",
    "Access tokens asked of an org's EnOS token service (get or refresh)",
    ["org", "operation"],
)
CACHE_HITS = Counter(
    "fwportal_enos_cache_hits", "EnOS answers served from the cache while fresh, no call made"
)
COALESCED_WAITS = Counter(
    "fwportal_enos_coalesced_waits",
    "Requests that waited for another request's identical EnOS call and took its answer",
)
STALE_SERVED = Counter(
    "fwportal_enos_stale_served",
    "Last good copies served because EnOS failed (an outage, a timeout, busy, rate limited)",
)
BULKHEAD_REJECTIONS = Counter(
    "fwportal_enos_bulkhead_rejections",
    "EnOS calls turned away because the org's calls in flight filled every slot (Busy)",
    ["org"],
)
HTTP_REQUESTS = Counter(
    "fwportal_http_requests",
    "HTTP requests answered, by view name and status code",
    ["view", "status"],
)


def enos_call(org: str, operation: str, outcome: str, seconds: float) -> None:
    ENOS_CALLS.labels(org, operation, outcome).inc()
    ENOS_CALL_SECONDS.labels(org, operation).observe(seconds)
    if operation.startswith("token_"):
        TOKEN_FETCHES.labels(org, operation).inc()
