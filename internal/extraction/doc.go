// Package extraction holds the rules of how an account's entities are
// extracted (API.md §10.6, §10.7) and implements memory.Extraction over
// the storage interface [Store] it defines: the bring-your-own LLM keys,
// sealed at rest under the server's secret (package secret) and never
// returned, their providers and base URLs (through the outbound-call
// policy), one active key per account; and [Service.Extract], the
// extractor a write uses: the account's active key through package
// extract/llm, else the server's extractor (the built-in one by default).
//
// The HTTP handler is httpapi/extraction.go; the rows are
// internal/store's extraction.go, the SQL internal/store/sqlite's.
package extraction
