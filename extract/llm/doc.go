// Package llm is an entity extractor ([extract.Extractor]) over an
// OpenAI-compatible chat-completions endpoint: OpenAI, Azure OpenAI,
// Ollama, or any server that speaks the same API (API.md §10.7: the
// bring-your-own-key extractor).
//
// [New] makes one from [Options]: the endpoint's base URL (the request
// goes to BaseURL + "/chat/completions", the base URL's query kept, as
// Azure's api-version needs), the model, and the API key, held as a
// [secret.Text] that never prints. Each call sends the memory's text
// (cut to MaxInputChars at a word boundary) with a fixed system prompt
// asking for JSON only, temperature 0 and JSON mode, and parses the reply
// strictly ([ParseEntities]): one JSON object {"entities": [{"type",
// "name", "confidence"?}]}, optionally inside one ``` fence, nothing
// else. Entities whose name does not occur in the text (case-insensitive)
// are dropped as invented.
//
// # Failures
//
// Each attempt is bounded by Timeout. A network error, a timeout, a 408,
// a 429 or a 5xx is retried, up to MaxAttempts in all, after a backoff
// (MinBackoff doubled per attempt, jittered, at most 8 s; a Retry-After
// of up to 30 s is honoured instead). Any other status is a *[StatusError]
// at once; a reply larger than MaxResponseBytes is [ErrTooLarge]; one
// that does not parse is a *[ParseError]. No error holds the API key, the
// text or the reply. The default HTTP client applies the server's
// outbound-call policy (https, public addresses only; see
// Options.HTTPClient).
//
// An Extractor is safe for concurrent use.
package llm
