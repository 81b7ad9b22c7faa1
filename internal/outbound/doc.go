// Package outbound is the server's outbound-call policy (API.md §10.3):
// which URLs the server may call on behalf of a user (webhooks, LLM
// endpoints), checked when the URL is given and again, against the
// address actually dialled, on every connection.
//
// By default a URL must be https, without user information, and its host
// must not resolve to a loopback, private, link-local (cloud metadata
// included), shared (CGNAT), multicast, unspecified or reserved address.
// An operator widens it with [Policy.Allow] (address ranges, for example
// 10.0.0.0/8 for an internal receiver, or 127.0.0.0/8 for local testing)
// and [Policy.AllowHTTP] (hosts that may be called over plain http).
//
// The address check runs in the dialer's Control hook, after DNS, on the
// IP the socket connects to: a name that resolved to a public address when
// the URL was checked and to 127.0.0.1 when it is called (DNS rebinding)
// is refused at dial time. [Policy.Client] returns an http.Client built
// that way, with no proxy (a proxy would be the address dialled) and no
// redirects followed.
//
// A Policy is a value; its methods are safe for concurrent use.
package outbound
