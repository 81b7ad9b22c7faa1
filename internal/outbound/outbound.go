package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrBlocked is matched by every refusal of the policy: a *BlockedError.
var ErrBlocked = errors.New("outbound: blocked by the outbound-call policy")

// BlockedError says why a URL or an address was refused. It matches
// [ErrBlocked].
type BlockedError struct {
	Reason string // for people: "loopback address 127.0.0.1", "plain http to example.com"
}

func (e *BlockedError) Error() string        { return "outbound: " + e.Reason + " is not allowed" }
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

func blocked(format string, args ...any) error {
	return &BlockedError{Reason: fmt.Sprintf(format, args...)}
}

// Policy decides which URLs and addresses may be called. The zero value
// is the strict default of the package doc.
type Policy struct {
	// Allow lists address ranges that may be dialled although the default
	// refuses them (loopback, private, …).
	Allow []netip.Prefix
	// AllowHTTP lists the hosts that may be called over plain http: a
	// host name or IP ("localhost", "10.0.0.5", any port) or host:port
	// ("receiver.internal:8080", that port only), compared
	// case-insensitively. Every other URL must be https.
	AllowHTTP []string
}

// denied are the ranges refused by default, with the reason shown.
var denied = []struct {
	p      netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified or \"this network\" address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local or metadata address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	{netip.MustParsePrefix("100::/64"), "discard address"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local) or metadata address"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address"},
}

// embedded are IPv6 ranges that carry an IPv4 address, checked as that
// address: NAT64 (64:ff9b::/96, last 32 bits) and 6to4 (2002::/16, bits
// 16–48).
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64loc  = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// CheckAddr reports whether ip may be dialled: nil, or a *BlockedError.
func (p Policy) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return blocked("invalid address")
	}
	for _, a := range p.Allow {
		if a.Contains(ip) {
			return nil
		}
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip), nat64loc.Contains(ip):
			if err := p.CheckAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); err != nil {
				return blocked("NAT64 address %s (%v)", ip, err.(*BlockedError).Reason)
			}
		case sixToFour.Contains(ip):
			if err := p.CheckAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); err != nil {
				return blocked("6to4 address %s (%v)", ip, err.(*BlockedError).Reason)
			}
		}
	}
	if ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return blocked("broadcast address %s", ip)
	}
	for _, d := range denied {
		if d.p.Contains(ip) {
			return blocked("%s %s", d.reason, ip)
		}
	}
	return nil
}

// CheckURL checks a URL as given by a user: absolute, https (or http to
// an AllowHTTP host), a host, no user information, and, when the host is
// an IP literal, an address CheckAddr allows. A host name is resolved
// only when dialled (see Client). It returns the parsed URL.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return nil, blocked("a URL that is not absolute")
	}
	if u.User != nil {
		return nil, blocked("a URL with user information")
	}
	host := u.Hostname()
	if host == "" {
		return nil, blocked("a URL without a host")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !p.httpAllowed(u) {
			return nil, blocked("plain http to %s", host)
		}
	default:
		return nil, blocked("scheme %q", u.Scheme)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := p.CheckAddr(ip); err != nil {
			return nil, err
		}
	} else if strings.HasPrefix(u.Host, "[") || strings.ContainsAny(host, "[]:%") {
		// An IP literal that does not parse (a stray bracket, an empty
		// zone): no host name has these characters, so it is refused
		// rather than left to the resolver.
		return nil, blocked("a malformed IP literal %q", host)
	}
	return u, nil
}

func (p Policy) httpAllowed(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = "80"
	}
	for _, a := range p.AllowHTTP {
		a = strings.ToLower(a)
		if h, pt, err := net.SplitHostPort(a); err == nil {
			if strings.Trim(h, "[]") == host && pt == port {
				return true
			}
			continue
		}
		if strings.Trim(a, "[]") == host {
			return true
		}
	}
	return false
}

// Control is a net.Dialer Control hook that refuses addresses the policy
// does not allow. It sees the address being connected to, after name
// resolution.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return blocked("address %q", address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return blocked("address %q", address)
	}
	return p.CheckAddr(ip)
}

// Transport returns an http.Transport that dials only addresses the policy
// allows, with no proxy, and timeouts for dialling (10 s), the TLS
// handshake (10 s) and the response headers (responseHeader; 0: none).
func (p Policy) Transport(responseHeader time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: p.Control}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: responseHeader,
		ExpectContinueTimeout: time.Second,
	}
}

// Client returns an http.Client over [Policy.Transport] that follows no
// redirect (a 3xx is returned as it is) and checks each request's URL
// with CheckURL before sending it. Close its transport's idle connections
// (CloseIdleConnections) when done with it.
func (p Policy) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport:     &checked{p: p, t: p.Transport(0)},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checked checks every request's URL before the transport sends it.
type checked struct {
	p Policy
	t *http.Transport
}

func (c *checked) RoundTrip(r *http.Request) (*http.Response, error) {
	if _, err := c.p.CheckURL(r.URL.String()); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	return c.t.RoundTrip(r)
}

// CloseIdleConnections closes the transport's idle connections.
func (c *checked) CloseIdleConnections() { c.t.CloseIdleConnections() }

// Dial is a DialContext that checks addresses like Control; for callers
// building their own transport.
func (p Policy) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: p.Control}
	return d.DialContext(ctx, network, address)
}
