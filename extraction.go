package memoryrelay

import (
	"time"

	"github.com/memoryrelay/memoryrelay/extract"
	"github.com/memoryrelay/memoryrelay/internal/extraction"
)

// DefaultExtractionTimeout bounds one LLM extraction by default.
const DefaultExtractionTimeout = 20 * time.Second

// ExtractionOptions configures entity extraction (API.md §10.6, §10.7):
// with auto_extract_entities (or Default), the entities found in a
// memory's content are created, or matched by type and name (ASCII
// case-insensitively), and linked to it in the write's transaction. The
// extractor runs before that transaction; its failure fails nothing but
// itself: the memory is stored and its extraction_status is "failed".
//
// An account's active bring-your-own key (the extraction-keys API; needs
// Options.ServerSecret) makes its extractions an LLM's (package
// extract/llm, through Options.Outbound); otherwise Extractor runs.
type ExtractionOptions struct {
	// Default is what a memory create without auto_extract_entities
	// does. Default false: only creates that ask are extracted.
	Default bool
	// Extractor replaces the built-in offline extractor (extract.Builtin)
	// for accounts without an active key.
	Extractor extract.Extractor
	// Timeout bounds one LLM extraction. Default 20 s.
	Timeout time.Duration
	// MaxKeysPerAccount is the most extraction keys one account may
	// store. Default memory.MaxExtractionKeys (10).
	MaxKeysPerAccount int
}

// ErrNoServerSecret is matched by the error of the extraction-keys
// methods on a Relay without Options.ServerSecret (HTTP 503).
var ErrNoServerSecret = extraction.ErrNoSecret
