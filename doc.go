// Package memoryrelay is an embeddable long-term memory store for AI
// agents: API keys with scopes, per-key rate limits, and memories with
// semantic and full-text search, all in one SQLite file.
//
// Open a database, create an account, then store and search through its
// API:
//
//	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: "memory.db"})
//	...
//	defer r.Close()
//	info, _ := r.CreateAccount(ctx, "acme")
//	acct := r.Account(info.ID) // a memory.Account
//	m, _ := acct.Memories().Create(ctx, memory.NewMemory{AgentID: "assistant", Content: "The user prefers TypeScript."})
//	hits, _ := acct.Memories().Search(ctx, memory.SearchParams{Query: "which language does the user prefer?"})
//
// The types and the account-scoped API are those of package memory: a
// program written against memory.Account runs in process (Relay.Account,
// Relay.AccountFor) or against a remote server (package client) alike.
// The REST API of the hosted MemoryRelay service is served by package
// httpapi on top of a *Relay. The limits and defaults of every input
// (memory.MaxContentChars, memory.MaxBatch, memory.MaxPageLimit, …) are
// constants of package memory, beside the types they bound.
//
// The Relay wires the parts and adds only the verbs that cross them: Open
// and Close, Authorize (verify a key, take a rate-limit token, check its
// scopes), the account handles and account records, ImportKey, Backup,
// Compact, Reembed and Health. The rules of each resource group (memories,
// agents, entities, sessions, decisions, patterns, projects, context
// building, keys, usage) live in a package of their own, which the handle
// of an account returns; see the README's architecture section.
//
// # Storage
//
// One SQLite file in WAL mode, synchronous=FULL unless configured, with one
// writer connection (transactions BEGIN IMMEDIATE) and a pool of readers.
// The schema is migrated at Open. The vectors of memories are stored as
// int8 codes with a float32 step (Options.VectorEncoding; "float32" keeps
// sqlite-vec's float32 format); semantic searches go through an in-process index of
// compact codes (package search/index) that Open builds in the background
// and keeps in step with every committed write, of this process or
// another, and whose best candidates are rescored exactly
// (Options.ExactSearch uses sqlite-vec's vec_distance_cosine scan instead).
// Full text is indexed with FTS4 (compiled into mattn/go-sqlite3 by
// default, so no build tags are needed) and ranked with BM25 computed from
// matchinfo. Every search is one call of package search's Engine, which
// fuses the two by Options.Fusion.
//
// # Concurrency
//
// A *Relay is safe for concurrent use. Close stops every goroutine Open
// started.
package memoryrelay
