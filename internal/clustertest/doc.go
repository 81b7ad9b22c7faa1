// Package clustertest holds the tests of several memoryrelay nodes
// sharing one PostgreSQL and one Redis, all real (internal/pgtest,
// internal/redistest): the API's contract against a node on PostgreSQL,
// and what must hold across nodes (a write on one found by a search on
// another within a bound, revocation and rotation, rate limits, usage
// counts and last-used times, leased v2 jobs, the bootstrap key, an index
// rebuilt after falling behind the change feed), and what must hold
// through failures under load: a node process killed with SIGKILL,
// Redis killed, PostgreSQL killed (MEMORYRELAY_LONG_TESTS=1 runs the long
// variants). It has no code of its own; its benchmarks compare one node
// with three.
package clustertest
