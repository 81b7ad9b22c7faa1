package scopes_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/scopes"
)

func TestScopeString(t *testing.T) {
	tests := []struct {
		sc   scopes.Scope
		want string
	}{
		{scopes.Read, "read"},
		{scopes.Write, "write"},
		{scopes.Delete, "delete"},
		{scopes.Admin, "admin"},
		{0, "scopes.Scope(0)"},
		{scopes.Read | scopes.Write, "scopes.Scope(3)"},
		{16, "scopes.Scope(16)"},
	}
	for _, tt := range tests {
		if got := tt.sc.String(); got != tt.want {
			t.Errorf("Scope(%d).String() = %q, want %q", uint8(tt.sc), got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    scopes.Scope
		wantErr string // exact error text; "" means success
	}{
		{in: "read", want: scopes.Read},
		{in: "write", want: scopes.Write},
		{in: "delete", want: scopes.Delete},
		{in: "admin", want: scopes.Admin},
		{in: "  read\t", want: scopes.Read},
		{in: "READ", want: scopes.Read},
		{in: "Admin", want: scopes.Admin},
		{in: "foo", wantErr: `scopes: unknown scope "foo"`},
		{in: "", wantErr: `scopes: unknown scope ""`},
		{in: "read,write", wantErr: `scopes: unknown scope "read,write"`},
		{in: "reads", wantErr: `scopes: unknown scope "reads"`},
		{in: "re ad", wantErr: `scopes: unknown scope "re ad"`},
		{in: " foo ", wantErr: `scopes: unknown scope "foo"`},
		// Only ASCII case folds (strings.EqualFold would also fold e.g. U+212A KELVIN SIGN to "k").
		{in: "adm\u0130n", wantErr: `scopes: unknown scope "admİn"`},
		{in: "\x00read", wantErr: `scopes: unknown scope "\x00read"`},
		{in: strings.Repeat("x", 40), wantErr: `scopes: unknown scope "` + strings.Repeat("x", 32) + `…"`},
		{in: strings.Repeat("x", 31) + "é", wantErr: `scopes: unknown scope "` + strings.Repeat("x", 31) + `…"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := scopes.Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want error", tt.in, got)
				}
				if !errors.Is(err, scopes.ErrUnknown) {
					t.Errorf("Parse(%q) error %v does not wrap ErrUnknown", tt.in, err)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("Parse(%q) error = %q, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNewSet(t *testing.T) {
	tests := []struct {
		name string
		in   []scopes.Scope
		want []string
	}{
		{"none", nil, []string{}},
		{"one", []scopes.Scope{scopes.Write}, []string{"write"}},
		{"canonical order", []scopes.Scope{scopes.Admin, scopes.Delete, scopes.Read}, []string{"read", "delete", "admin"}},
		{"duplicates", []scopes.Scope{scopes.Read, scopes.Read}, []string{"read"}},
		{"combined value", []scopes.Scope{scopes.Read | scopes.Write}, []string{"read", "write"}},
		{"unknown bits dropped", []scopes.Scope{16, 128 | scopes.Delete}, []string{"delete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scopes.NewSet(tt.in...).Strings()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("NewSet(%v).Strings() = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
	if !scopes.NewSet().IsEmpty() || scopes.NewSet() != scopes.Set(0) {
		t.Error("NewSet() is not the empty set")
	}
}

func TestParseSet(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    scopes.Set
		wantErr string
	}{
		{name: "nil", in: nil, want: 0},
		{name: "empty", in: []string{}, want: 0},
		{name: "two", in: []string{"write", "read"}, want: scopes.NewSet(scopes.Read, scopes.Write)},
		{name: "duplicates", in: []string{"read", "READ", " read "}, want: scopes.NewSet(scopes.Read)},
		{name: "all", in: []string{"read", "write", "delete", "admin"}, want: scopes.NewSet(scopes.Read, scopes.Write, scopes.Delete, scopes.Admin)},
		{name: "unknown", in: []string{"read", "owner", "bogus"}, wantErr: `scopes: unknown scope "owner"`},
		{name: "empty name", in: []string{"read", ""}, wantErr: `scopes: unknown scope ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scopes.ParseSet(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, scopes.ErrUnknown) {
					t.Fatalf("ParseSet(%q) = %v, %v; want error %q wrapping ErrUnknown", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseSet(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	rw := scopes.NewSet(scopes.Read, scopes.Write)
	tests := []struct {
		in      string
		want    scopes.Set
		wantErr string
	}{
		{in: "", want: 0},
		{in: "  , ,", want: 0},
		{in: "read", want: scopes.NewSet(scopes.Read)},
		{in: "read,write", want: rw},
		{in: "read write", want: rw},
		{in: "read, write", want: rw},
		{in: " write ,, read\n", want: rw},
		{in: "read\twrite\u00a0delete", want: scopes.NewSet(scopes.Read, scopes.Write, scopes.Delete)},
		{in: "ADMIN,read", want: scopes.NewSet(scopes.Read, scopes.Admin)},
		{in: "read,read", want: scopes.NewSet(scopes.Read)},
		{in: "read;write", wantErr: `scopes: unknown scope "read;write"`},
		{in: "read,wrte", wantErr: `scopes: unknown scope "wrte"`},
		{in: "read,\xff", wantErr: `scopes: unknown scope "\xff"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := scopes.ParseList(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, scopes.ErrUnknown) {
					t.Fatalf("ParseList(%q) = %v, %v; want error %q wrapping ErrUnknown", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseList(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

// Sets used across the tests.
const (
	none   = scopes.Set(0)
	r      = scopes.Set(scopes.Read)
	rw     = scopes.Set(scopes.Read | scopes.Write)
	rwd    = scopes.Set(scopes.Read | scopes.Write | scopes.Delete)
	del    = scopes.Set(scopes.Delete)
	admin  = scopes.Set(scopes.Admin)
	every  = scopes.Set(scopes.Read | scopes.Write | scopes.Delete | scopes.Admin)
	weird  = scopes.Set(0xF0) // only undefined bits
	weirdR = weird | r
)

// allScopes returns the four defined scopes in canonical order.
func allScopes() []scopes.Scope {
	return []scopes.Scope{scopes.Read, scopes.Write, scopes.Delete, scopes.Admin}
}

func TestHas(t *testing.T) {
	allSc := allScopes()
	tests := []struct {
		set  scopes.Set
		want []scopes.Scope // exactly these of allSc are granted
	}{
		{none, nil},
		{r, []scopes.Scope{scopes.Read}},
		{rw, []scopes.Scope{scopes.Read, scopes.Write}},
		{del, []scopes.Scope{scopes.Delete}},
		{rwd, []scopes.Scope{scopes.Read, scopes.Write, scopes.Delete}},
		{admin, allSc},
		{every, allSc},
		{weird, nil},
		{weirdR, []scopes.Scope{scopes.Read}},
	}
	for _, tt := range tests {
		t.Run(tt.set.String(), func(t *testing.T) {
			for _, sc := range allSc {
				want := false
				for _, w := range tt.want {
					want = want || w == sc
				}
				if got := tt.set.Has(sc); got != want {
					t.Errorf("%v.Has(%v) = %v, want %v", tt.set, sc, got, want)
				}
			}
			if tt.set.Has(0) {
				t.Errorf("%v.Has(0) = true", tt.set)
			}
			if tt.set.Has(16) {
				t.Errorf("%v.Has(16) = true", tt.set)
			}
		})
	}
	if !rw.Has(scopes.Read|scopes.Write) || rw.Has(scopes.Read|scopes.Delete) {
		t.Error("Has with a combined scope must require all of them")
	}
}

func TestCheck(t *testing.T) {
	allSc := allScopes()
	tests := []struct {
		name     string
		set      scopes.Set
		required []scopes.Scope
		missing  scopes.Scope // 0: Check succeeds, unless fails is set
		msg      string
		fails    bool
	}{
		{name: "nothing required", set: none},
		{name: "read ok", set: r, required: []scopes.Scope{scopes.Read}},
		{name: "write missing", set: r, required: []scopes.Scope{scopes.Write}, missing: scopes.Write, msg: "Insufficient scope. Required: write"},
		{name: "read+write cannot delete", set: rw, required: []scopes.Scope{scopes.Delete}, missing: scopes.Delete, msg: "Insufficient scope. Required: delete"},
		{name: "rwd is not admin", set: rwd, required: []scopes.Scope{scopes.Admin}, missing: scopes.Admin, msg: "Insufficient scope. Required: admin"},
		{name: "empty set", set: none, required: []scopes.Scope{scopes.Read}, missing: scopes.Read, msg: "Insufficient scope. Required: read"},
		{name: "admin implies all", set: admin, required: allSc},
		{name: "first missing in argument order", set: r, required: []scopes.Scope{scopes.Read, scopes.Delete, scopes.Write}, missing: scopes.Delete, msg: "Insufficient scope. Required: delete"},
		{name: "combined reports lowest missing", set: r, required: []scopes.Scope{scopes.Read | scopes.Write | scopes.Delete}, missing: scopes.Write, msg: "Insufficient scope. Required: write"},
		{name: "zero scope fails closed", set: every, required: []scopes.Scope{scopes.Read, 0}, missing: 0, msg: "Insufficient scope. Required: scopes.Scope(0)", fails: true},
		{name: "undefined scope fails closed", set: every, required: []scopes.Scope{16}, missing: 16, msg: "Insufficient scope. Required: scopes.Scope(16)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.set.Check(tt.required...)
			if tt.missing == 0 && !tt.fails {
				if err != nil {
					t.Fatalf("%v.Check(%v) = %v, want nil", tt.set, tt.required, err)
				}
				return
			}
			var me *scopes.MissingError
			if !errors.As(err, &me) {
				t.Fatalf("%v.Check(%v) = %v, want *MissingError", tt.set, tt.required, err)
			}
			if me.Scope != tt.missing {
				t.Errorf("MissingError.Scope = %v, want %v", me.Scope, tt.missing)
			}
			if err.Error() != tt.msg {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		s, other scopes.Set
		want     bool
	}{
		{none, none, true},
		{r, none, true},
		{none, r, false},
		{rw, r, true},
		{r, rw, false},
		{rw, del, false},
		{rwd, admin, false},
		{admin, rwd, true},
		{admin, every, true},
		{every, admin, true},
		{rwd, every, false},
		{r, weirdR, true}, // undefined bits of other are ignored
	}
	for _, tt := range tests {
		if got := tt.s.Contains(tt.other); got != tt.want {
			t.Errorf("{%v}.Contains({%v}) = %v, want %v", tt.s, tt.other, got, tt.want)
		}
	}
}

func TestStringsAndString(t *testing.T) {
	tests := []struct {
		set  scopes.Set
		want string
	}{
		{none, ""},
		{r, "read"},
		{rw, "read,write"},
		{admin, "admin"}, // implied scopes are not listed
		{every, "read,write,delete,admin"},
		{weirdR, "read"},
	}
	for _, tt := range tests {
		if got := tt.set.String(); got != tt.want {
			t.Errorf("Set(%#x).String() = %q, want %q", uint8(tt.set), got, tt.want)
		}
		if got := strings.Join(tt.set.Strings(), ","); got != tt.want {
			t.Errorf("Set(%#x).Strings() joined = %q, want %q", uint8(tt.set), got, tt.want)
		}
	}
	if s := none.Strings(); s == nil || len(s) != 0 {
		t.Errorf("empty Set.Strings() = %#v, want empty non-nil", s)
	}
}

func TestIsEmpty(t *testing.T) {
	for _, tt := range []struct {
		set  scopes.Set
		want bool
	}{{none, true}, {weird, true}, {r, false}, {admin, false}} {
		if got := tt.set.IsEmpty(); got != tt.want {
			t.Errorf("Set(%#x).IsEmpty() = %v, want %v", uint8(tt.set), got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, set := range []scopes.Set{none, r, rw, rwd, admin, every} {
		text, err := set.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		got := scopes.Set(0xFF)
		if err := got.UnmarshalText(text); err != nil || got != set {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, got, err, set)
		}
	}
	got := rw
	if err := got.UnmarshalText([]byte("read,nope")); !errors.Is(err, scopes.ErrUnknown) {
		t.Errorf("UnmarshalText(bad) error = %v, want ErrUnknown", err)
	}
	if got != rw {
		t.Errorf("failed UnmarshalText changed the set to %v", got)
	}
}

func TestJSON(t *testing.T) {
	type keyObject struct {
		Scopes scopes.Set `json:"scopes"`
	}
	marshal := []struct {
		set  scopes.Set
		want string
	}{
		{none, `{"scopes":[]}`},
		{rw, `{"scopes":["read","write"]}`},
		{every, `{"scopes":["read","write","delete","admin"]}`},
	}
	for _, tt := range marshal {
		b, err := json.Marshal(keyObject{tt.set})
		if err != nil || string(b) != tt.want {
			t.Errorf("json.Marshal(%v) = %s, %v; want %s", tt.set, b, err, tt.want)
		}
	}

	unmarshal := []struct {
		in      string
		want    scopes.Set
		wantErr bool
		unknown bool // error wraps ErrUnknown
	}{
		{in: `{"scopes":["write","read"]}`, want: rw},
		{in: `{"scopes":["read","read"]}`, want: r},
		{in: `{"scopes":[]}`, want: none},
		{in: `{"scopes":"read write"}`, want: rw},
		{in: `{"scopes":null}`, want: del}, // unchanged
		{in: `{}`, want: del},              // unchanged
		{in: `{"scopes":["read","root"]}`, wantErr: true, unknown: true},
		{in: `{"scopes":"read,root"}`, wantErr: true, unknown: true},
		{in: `{"scopes":[1]}`, wantErr: true},
		{in: `{"scopes":{"read":true}}`, wantErr: true},
		{in: `{"scopes":3}`, wantErr: true},
	}
	for _, tt := range unmarshal {
		t.Run(tt.in, func(t *testing.T) {
			got := keyObject{Scopes: del}
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %v, want error", tt.in, got.Scopes)
				}
				if tt.unknown != errors.Is(err, scopes.ErrUnknown) {
					t.Errorf("Unmarshal(%s) error %v: errors.Is(ErrUnknown) = %v", tt.in, err, !tt.unknown)
				}
				return
			}
			if err != nil || got.Scopes != tt.want {
				t.Errorf("Unmarshal(%s) = %v, %v; want %v", tt.in, got.Scopes, err, tt.want)
			}
		})
	}
}

func TestCheckAllocs(t *testing.T) {
	set := rw
	if n := testing.AllocsPerRun(100, func() {
		if set.Check(scopes.Read, scopes.Write) != nil {
			t.Fatal("Check failed")
		}
	}); n != 0 {
		t.Errorf("successful Check allocates %v times, want 0", n)
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"", "read", "read,write", "read write", "ADMIN , delete", ",,", "read,foo",
		"read\twrite\ndelete admin", "\u00a0read\u2003write", "re\xffad", "admin,admin",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := scopes.ParseList(s)
		if err != nil {
			if !errors.Is(err, scopes.ErrUnknown) {
				t.Fatalf("ParseList(%q) error %v does not wrap ErrUnknown", s, err)
			}
			if set != 0 {
				t.Fatalf("ParseList(%q) returned %v with an error", s, set)
			}
			return
		}
		str := set.String()
		again, err := scopes.ParseList(str)
		if err != nil || again != set {
			t.Fatalf("ParseList(%q) = %v; ParseList(%q) = %v, %v", s, set, str, again, err)
		}
		if again.String() != str {
			t.Fatalf("String not stable: %q then %q", str, again.String())
		}
		fromSlice, err := scopes.ParseSet(set.Strings())
		if err != nil || fromSlice != set {
			t.Fatalf("ParseSet(%q) = %v, %v; want %v", set.Strings(), fromSlice, err, set)
		}
		if !set.Contains(set) {
			t.Fatalf("%v does not contain itself", set)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	b.Run("granted", func(b *testing.B) {
		b.ReportAllocs()
		set := rw
		for b.Loop() {
			if set.Check(scopes.Write) != nil {
				b.Fatal("unexpected error")
			}
		}
	})
	b.Run("admin", func(b *testing.B) {
		b.ReportAllocs()
		set := admin
		for b.Loop() {
			if set.Check(scopes.Delete) != nil {
				b.Fatal("unexpected error")
			}
		}
	})
	b.Run("missing", func(b *testing.B) {
		b.ReportAllocs()
		set := r
		for b.Loop() {
			if set.Check(scopes.Delete) == nil {
				b.Fatal("expected error")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		set := rw
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if set.Check(scopes.Read) != nil {
					b.Fatal("unexpected error")
				}
			}
		})
	})
}
