// Package convert turns the rows of internal/store into the public types
// of package memory: one function per stored type. Storage internals (row
// numbers, account ids, agent references as supplied) stop here.
package convert
