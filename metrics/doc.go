// Package metrics exposes a memoryrelay server's metrics in the Prometheus
// exposition format: requests by route pattern, method and status, their
// latency, authentication failures by reason, rate-limit refusals, search
// latency by mode (all told by the HTTP handler, as an httpapi.Observer),
// and, read at each scrape, the health of each service, the search index's
// size and lag behind the change feed, the v2 job queue and the size of the
// database.
//
// It is a package of its own so that a program linking only the library
// (memoryrelay, httpapi) does not link client_golang:
//
//	m, err := metrics.New(relay, metrics.Options{})
//	...
//	api, err := httpapi.New(relay, httpapi.Options{Observers: []httpapi.Observer{m}})
//	...
//	mux.Handle("GET /metrics", m.Handler())
//	mux.Handle("/", api)
//
// # Series
//
// Counters and histograms, from the requests the handler served:
//
//	memoryrelay_http_requests_total{route,method,status}
//	memoryrelay_http_request_duration_seconds{route,method}   histogram
//	memoryrelay_auth_failures_total{reason}                   missing, malformed, unknown, revoked, expired, scope
//	memoryrelay_rate_limited_total{route}
//	memoryrelay_search_duration_seconds{mode}                 histogram: hybrid, semantic, keyword
//
// route is the route's pattern ("/v1/memories/{id}"), never the path, so
// the series are few; "unmatched" for a request no route served (404,
// 405). Gauges read at each scrape, from Relay.Health and Relay.Stats:
//
//	memoryrelay_status{status}                   1 for the current of healthy, degraded, unhealthy
//	memoryrelay_service_status{service,status}   1 for each service's current of up, degraded, down
//	memoryrelay_index_ready                      1 once the in-process vector index is built
//	memoryrelay_index_vectors                    vectors in the index
//	memoryrelay_index_lag_changes                committed changes the index has not applied
//	memoryrelay_jobs_pending, memoryrelay_jobs_processing
//	memoryrelay_jobs_oldest_pending_age_seconds  0 when none is pending
//	memoryrelay_jobs_workers, memoryrelay_jobs_workers_running
//	memoryrelay_database_bytes, memoryrelay_database_wal_bytes
//	memoryrelay_uptime_seconds
//	memoryrelay_build_info{version,goversion}    1
//
// and the Go runtime's and the process's own (go_*, process_*).
//
// # Concurrency
//
// A *Metrics is safe for concurrent use. It holds its own registry (no
// global state) and starts no goroutine: the gauges are read when scraped.
package metrics
