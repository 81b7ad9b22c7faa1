// Package uuid makes and checks the lowercase RFC 9562 version-4 UUIDs used
// as object ids.
package uuid
