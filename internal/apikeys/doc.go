// Package apikeys implements memory.Keys, the API keys of one account,
// over the key store of package keys (which holds the rules of keys:
// tokens, hashing, validation, the last admin key), paging them by offset
// and speaking the API's errors: an unknown key is a *memory.NotFoundError
// of kind "key" that also matches keys.ErrNotFound (API contract §9).
//
// The HTTP handler of keys is httpapi/keys.go; their SQL is
// internal/store/sqlite's keys.go (a keys.Repository).
package apikeys
