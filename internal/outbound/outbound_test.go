package outbound_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/outbound"
)

func TestCheckAddr(t *testing.T) {
	loopback := outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	cases := []struct {
		addr  string
		p     outbound.Policy
		allow bool
	}{
		{"8.8.8.8", outbound.Policy{}, true},
		{"1.1.1.1", outbound.Policy{}, true},
		{"2606:4700:4700::1111", outbound.Policy{}, true},
		{"127.0.0.1", outbound.Policy{}, false},
		{"127.255.0.9", outbound.Policy{}, false},
		{"::1", outbound.Policy{}, false},
		{"::ffff:127.0.0.1", outbound.Policy{}, false},
		{"::ffff:10.1.2.3", outbound.Policy{}, false},
		{"10.0.0.1", outbound.Policy{}, false},
		{"172.16.0.1", outbound.Policy{}, false},
		{"172.31.255.255", outbound.Policy{}, false},
		{"172.32.0.1", outbound.Policy{}, true},
		{"192.168.1.1", outbound.Policy{}, false},
		{"169.254.169.254", outbound.Policy{}, false}, // AWS, GCP, Azure metadata
		{"100.100.100.200", outbound.Policy{}, false}, // Alibaba metadata (CGNAT range)
		{"fd00:ec2::254", outbound.Policy{}, false},   // AWS IPv6 metadata
		{"fe80::1", outbound.Policy{}, false},
		{"fe80::1%eth0", outbound.Policy{}, false},
		{"0.0.0.0", outbound.Policy{}, false},
		{"::", outbound.Policy{}, false},
		{"224.0.0.1", outbound.Policy{}, false},
		{"255.255.255.255", outbound.Policy{}, false},
		{"ff02::1", outbound.Policy{}, false},
		{"64:ff9b::7f00:1", outbound.Policy{}, false}, // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", outbound.Policy{}, true}, // NAT64 of 8.8.8.8
		{"2002:7f00:1::1", outbound.Policy{}, false},  // 6to4 of 127.0.0.1
		{"2002:808:808::1", outbound.Policy{}, true},
		{"127.0.0.1", loopback, true},
		{"::1", loopback, true},
		{"10.0.0.1", loopback, false},
		{"10.0.0.1", outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}, true},
		{"10.0.1.1", outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}, false},
	}
	for _, c := range cases {
		err := c.p.CheckAddr(netip.MustParseAddr(c.addr))
		if (err == nil) != c.allow {
			t.Errorf("CheckAddr(%s) = %v, want allowed %v", c.addr, err, c.allow)
		}
		if err != nil && !errors.Is(err, outbound.ErrBlocked) {
			t.Errorf("CheckAddr(%s): %v does not match ErrBlocked", c.addr, err)
		}
	}
	if err := (outbound.Policy{}).CheckAddr(netip.Addr{}); err == nil {
		t.Error("the zero address allowed")
	}
}

func TestCheckURL(t *testing.T) {
	local := outbound.Policy{AllowHTTP: []string{"localhost", "Receiver.Internal:8080", "[::1]"}}
	cases := []struct {
		url   string
		p     outbound.Policy
		allow bool
	}{
		{"https://hooks.example.com/memoryrelay", outbound.Policy{}, true},
		{"HTTPS://hooks.example.com:8443/x?y=1", outbound.Policy{}, true},
		{"http://hooks.example.com/x", outbound.Policy{}, false},
		{"ftp://hooks.example.com/x", outbound.Policy{}, false},
		{"javascript:alert(1)", outbound.Policy{}, false},
		{"/relative", outbound.Policy{}, false},
		{"https://", outbound.Policy{}, false},
		{"https://user:pw@hooks.example.com/", outbound.Policy{}, false},
		{"https://127.0.0.1/", outbound.Policy{}, false},
		{"https://[::1]:8443/", outbound.Policy{}, false},
		{"https://169.254.169.254/latest/meta-data", outbound.Policy{}, false},
		{"https://[::ffff:169.254.169.254]/", outbound.Policy{}, false},
		{"https://[fC00::0%25]]/", outbound.Policy{}, false},             // a stray bracket after an empty zone (found by FuzzCheckURL)
		{"https://[2001:4860:4860::8888%25]/", outbound.Policy{}, false}, // an empty zone: not an address
		{"http://localhost:3000/hook", local, true},
		{"http://localhost/hook", local, true},
		{"http://receiver.internal:8080/", local, true},
		{"http://receiver.internal:8081/", local, false},
		{"http://receiver.internal/", local, false},
		{"http://[::1]:9000/", local, false}, // http allowed, but the loopback address is not
		{"http://other.example/", local, false},
		{"%zz", outbound.Policy{}, false},
	}
	for _, c := range cases {
		_, err := c.p.CheckURL(c.url)
		if (err == nil) != c.allow {
			t.Errorf("CheckURL(%q) = %v, want allowed %v", c.url, err, c.allow)
		}
		if err != nil && !errors.Is(err, outbound.ErrBlocked) {
			t.Errorf("CheckURL(%q): %v does not match ErrBlocked", c.url, err)
		}
	}
}

func TestClientChecksAtDialTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port := u.Port()

	// "localhost" is a name: CheckURL cannot refuse it, but the dialler
	// sees 127.0.0.1 (or ::1) and does. This is the DNS-rebinding case:
	// whatever a name resolved to when it was checked, the address
	// connected to is checked again.
	strict := outbound.Policy{AllowHTTP: []string{"localhost", "127.0.0.1"}}
	if _, err := strict.CheckURL("http://localhost:" + port + "/"); err != nil {
		t.Fatalf("CheckURL of a name: %v", err)
	}
	c := strict.Client(5 * time.Second)
	defer c.CloseIdleConnections()
	for _, target := range []string{"http://localhost:" + port + "/", srv.URL + "/"} {
		res, err := c.Get(target)
		if err == nil {
			res.Body.Close()
			t.Fatalf("GET %s through the strict policy: %d, want refused", target, res.StatusCode)
		}
		if !errors.Is(err, outbound.ErrBlocked) {
			t.Fatalf("GET %s: %v, want ErrBlocked", target, err)
		}
		if !strings.Contains(err.Error(), "loopback") {
			t.Errorf("error %q does not say why", err)
		}
	}
	// A request the URL check refuses never dials.
	if _, err := c.Get("http://example.invalid/"); !errors.Is(err, outbound.ErrBlocked) {
		t.Fatalf("plain http to a host not allowed: %v", err)
	}

	open := outbound.Policy{AllowHTTP: []string{"127.0.0.1"}, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	c2 := open.Client(5 * time.Second)
	defer c2.CloseIdleConnections()
	res, err := c2.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", res.StatusCode)
	}
	// Redirects are not followed: the 302 itself is the answer.
	res, err = c2.Get(srv.URL + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("redirect: status %d, want 302 returned as is", res.StatusCode)
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/", "http://127.0.0.1/", "https://[::1]/", "https://u@h/", "%", "https://[fe80::1%25eth0]/"} {
		f.Add(s)
	}
	p := outbound.Policy{}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := p.CheckURL(raw)
		if err != nil {
			if !errors.Is(err, outbound.ErrBlocked) {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		if !strings.EqualFold(u.Scheme, "https") || u.User != nil || u.Hostname() == "" {
			t.Fatalf("%q allowed: %#v", raw, u)
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil && p.CheckAddr(ip) != nil {
			t.Fatalf("%q allowed with a refused address", raw)
		}
	})
}
