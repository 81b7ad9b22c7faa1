package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// compareGo compares two go directives ("1.21", "1.26.0"); a language
// version without a patch ("1.21") is older than its first release
// ("1.21.0"), as the go command orders them.
func compareGo(a, b string) int {
	parse := func(v string) [3]int {
		out := [3]int{0, 0, -1}
		for i, f := range strings.SplitN(v, ".", 3) {
			out[i], _ = strconv.Atoi(f)
		}
		return out
	}
	x, y := parse(a), parse(b)
	for i := range x {
		if x[i] != y[i] {
			if x[i] < y[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// TestGoDirectiveIsTheFloor: go.mod's go directive is the newest go
// directive among the modules of the build, no newer, so that programs
// importing the library are held to no Go release the dependencies do not
// already need (go mod tidy, in CI, keeps it from being older).
func TestGoDirectiveIsTheFloor(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.GoVersion}}", "all").Output()
	if err != nil {
		t.Fatalf("go list -m all: %v", err)
	}
	var main, floor, by string
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, v, _ := strings.Cut(line, " ")
		if i == 0 {
			main = v
			continue
		}
		if v != "" && compareGo(v, floor) > 0 {
			floor, by = v, path
		}
	}
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod); m == nil || string(m[1]) != main {
		t.Fatalf("go.mod's go line %q, go list says %q", m, main)
	}
	if compareGo(main, floor) != 0 {
		t.Fatalf("go.mod says go %s; the newest a dependency needs is %s (%s)", main, floor, by)
	}
	for _, c := range []struct {
		a, b string
		want int
	}{{"1.21", "1.21.0", -1}, {"1.26.0", "1.25", 1}, {"1.22.5", "1.22.5", 0}, {"1.9", "1.10", -1}} {
		if got := compareGo(c.a, c.b); got != c.want {
			t.Errorf("compareGo(%s, %s) = %d", c.a, c.b, got)
		}
	}
}
