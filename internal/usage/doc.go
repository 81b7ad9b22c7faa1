// Package usage counts the requests of each API key per UTC day and
// reports a key's quota: counts are kept in memory and written to the
// storage interface [Store] in batches ([Counter]), so that authenticating
// a request never writes the database, and [Service] implements
// memory.Usage for the key an account handle acts for (API contract
// §5.10).
//
// The HTTP handler of usage is httpapi/usage.go; its rows are
// internal/store's usage.go, its SQL internal/store/sqlite's.
package usage
