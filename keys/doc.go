// Package keys makes, checks and stores memoryrelay API keys.
//
// # Key format
//
// A key looks like
//
//	mem_live_VufITGSVyxNqL6aG587RJPZqXm4hqUjF3fn91b
//
// which is "mem_", an env ("live"), "_", a body
// ("VufITGSVyxNqL6aG587RJPZqXm4hqUjF") and a checksum ("3fn91b"):
//
//   - the env is 1 to 8 lowercase letters; by convention live, test, dev or
//     prod;
//   - the body is 32 base62 characters (0-9A-Za-z) drawn from crypto/rand
//     without modulo bias, about 190 bits of entropy;
//   - the checksum is the CRC-32 (IEEE) of everything before it, in 6 base62
//     digits left-padded with '0'.
//
// The design follows GitHub's tokens: the fixed prefix makes leaked keys easy
// for secret scanners to find, and the checksum lets [Parse] reject typos and
// random strings offline, before any database work. A CRC-32 detects every
// single-character substitution and every swap of adjacent characters.
//
// [Generate] makes a key; [Parse] checks one. Both return a [Token].
//
// # Keeping the secret secret
//
// A [Token] prints redacted: String, GoString, every fmt verb and its
// slog.LogValuer show only the first 12 characters followed by "…", for
// example "mem_live_Vuf…", so a token logged by accident does not leak.
// [Token.Reveal] is the only way to get the raw key, to show it once to the
// user who created it.
//
// # Hashing at rest
//
// Only [Token.Hash] (SHA-256 of the whole raw key, see also [HashString]) and
// the 12-character display prefix ([Token.Prefix], the "prefix" field of
// API.md §9) are stored; the raw key never is. Because the body carries about
// 190 bits of entropy, a fast unsalted hash is sufficient and lets a key be
// looked up by its hash.
//
// # Store
//
// The package also holds the key store: verification (with a cache of
// recent results), expiry, revocation and rotation with a grace period.
// The store checks the fields of every key it makes ([CreateParams]: name,
// scopes, expiry, rate limit, metadata) and the grace of every rotation,
// and refuses a bad one with an *[InvalidError] naming the field; the
// memoryrelay facade and its HTTP API rely on these checks rather than
// their own. A key stored without them (by an older version) still reads:
// metadata that is not a JSON object reads as none.
//
// # Concurrency
//
// [Token] is an immutable value, safe to copy and to share between
// goroutines. [Generate] and [Parse] may be called concurrently.
package keys
