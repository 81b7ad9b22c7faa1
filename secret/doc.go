// Package secret keeps server-side secrets secret: in memory as a [Text]
// that never prints, and at rest sealed with AES-256-GCM under the
// operator's server secret by a [Sealer].
//
// # Text
//
// A [Text] holds a secret string, such as an LLM provider's API key or a
// webhook's signing secret. String, GoString, every fmt verb, slog's
// LogValue, MarshalJSON and MarshalText all give "[redacted]", so a Text
// logged or encoded by accident shows nothing. [Text.Reveal] is the only
// way to the value; [Text.Mask] gives the display form of API.md §10.7
// ("sk-…abcd").
//
// # Sealing
//
// [NewSealer] derives a 256-bit AES key from the server secret (at least
// [MinServerSecret] bytes, for example the output of
// "openssl rand -base64 32") and a purpose string with HKDF-SHA256
// (RFC 5869):
//
//	key = HKDF-SHA256(secret = server secret, salt = "memoryrelay/secret/v1", info = purpose, 32 bytes)
//
// so one server secret gives independent keys for independent uses
// ("extraction-keys", "webhook-secrets", …). [Sealer.Seal] encrypts with
// AES-256-GCM under a fresh random 96-bit nonce and returns
//
//	version (1 byte, 0x01) | key id (4 bytes) | nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// The key id is the first 4 bytes of HMAC-SHA256(key, "memoryrelay key
// id"): it lets [Sealer.Open] tell a value sealed under another server
// secret ([ErrWrongSecret]) from one that was altered ([ErrTampered])
// without revealing anything of the key. The header and a caller-chosen
// binding (for example the account and row id) are authenticated as
// additional data, so a sealed value copied to another row does not open.
//
// Random nonces are safe for up to 2³² seals under one key; a server seals
// one value per stored key, far below that.
//
// # Concurrency
//
// A Text is an immutable value. A Sealer is safe for concurrent use.
package secret
