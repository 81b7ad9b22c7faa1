// Package memoryrelay is an embeddable long-term memory store for AI agents.
package memoryrelay
