package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Defaults of [Options].
const (
	// DefaultRedraw is how often a terminal line is redrawn at most.
	DefaultRedraw = 100 * time.Millisecond
	// DefaultEvery is how often a plain progress line is written at most.
	DefaultEvery = 5 * time.Second
	// DefaultWidth is the width of the bar in characters.
	DefaultWidth = 30
)

// Options configures [New]. The zero value draws a bar when the writer is
// a terminal (see [IsTerminal]) and plain lines otherwise.
type Options struct {
	// Terminal forces the terminal form (true) or the plain one (false);
	// nil: IsTerminal(w).
	Terminal *bool
	// Unit names what is counted ("memories", "bytes"); bytes are shown
	// in KiB, MiB, GiB. Default: none.
	Unit string
	// Redraw is the least time between two terminal redraws. Default
	// DefaultRedraw.
	Redraw time.Duration
	// Every is the least time between two plain lines. Default
	// DefaultEvery.
	Every time.Duration
	// Width is the bar's width in characters. Default DefaultWidth.
	Width int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// IsTerminal reports whether w is a character device (a terminal), as a
// *os.File whose mode has os.ModeCharDevice.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Meter shows the progress of one operation on a writer.
type Meter struct {
	w     io.Writer
	label string
	opts  Options
	tty   bool

	mu       sync.Mutex
	total    int64 // 0: unknown
	done     int64
	start    time.Time
	drawn    time.Time // when last drawn; zero: never
	finished bool
	width    int // of the last terminal line, to clear what is left of it
}

// New returns a Meter for an operation of total steps (0 when unknown),
// labelled label ("backup", "reembed memories"), writing to w.
func New(w io.Writer, label string, total int64, opts Options) *Meter {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Redraw <= 0 {
		opts.Redraw = DefaultRedraw
	}
	if opts.Every <= 0 {
		opts.Every = DefaultEvery
	}
	if opts.Width <= 0 {
		opts.Width = DefaultWidth
	}
	tty := IsTerminal(w)
	if opts.Terminal != nil {
		tty = *opts.Terminal
	}
	return &Meter{w: w, label: label, opts: opts, tty: tty, total: max(total, 0), start: opts.Now()}
}

// SetTotal changes the number of steps (0: unknown).
func (m *Meter) SetTotal(total int64) {
	m.mu.Lock()
	m.total = max(total, 0)
	m.mu.Unlock()
}

// SetLabel changes the label, for an operation that moves from one stage
// to the next.
func (m *Meter) SetLabel(label string) {
	m.mu.Lock()
	m.label = label
	m.mu.Unlock()
}

// Set records that done steps are done, and draws if it is time to.
func (m *Meter) Set(done int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done = done
	m.maybeDraw()
}

// Add records n more steps done, and draws if it is time to.
func (m *Meter) Add(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done += n
	m.maybeDraw()
}

// Done draws the final state and ends the line. Later calls do nothing.
func (m *Meter) Done() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.finished {
		return
	}
	m.finished = true
	m.draw(m.opts.Now(), true)
}

func (m *Meter) maybeDraw() {
	if m.finished {
		return
	}
	now := m.opts.Now()
	every := m.opts.Every
	if m.tty {
		every = m.opts.Redraw
	}
	if !m.drawn.IsZero() && now.Sub(m.drawn) < every {
		return
	}
	if m.drawn.IsZero() && !m.tty && now.Sub(m.start) < every {
		return // plain: the first line after one interval, not at once
	}
	m.draw(now, false)
}

func (m *Meter) draw(now time.Time, final bool) {
	m.drawn = now
	line := m.line(now, final)
	if !m.tty {
		fmt.Fprintln(m.w, line)
		return
	}
	pad := ""
	if n := len([]rune(line)); n < m.width {
		pad = strings.Repeat(" ", m.width-n)
	}
	m.width = len([]rune(line))
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprint(m.w, "\r"+line+pad+end)
}

// line renders the state: "label [=====>    ]  45% 4,500/10,000 1,234/s ETA 4s"
// on a terminal, "label: 4,500/10,000 (45%), 1,234/s, ETA 4s" otherwise.
func (m *Meter) line(now time.Time, final bool) string {
	elapsed := now.Sub(m.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(m.done) / elapsed.Seconds()
	}
	count := m.amount(m.done)
	if m.total > 0 {
		count += "/" + m.amount(m.total)
	}
	if m.opts.Unit != "" && m.opts.Unit != "bytes" {
		count += " " + m.opts.Unit
	}
	var parts []string
	if m.total > 0 {
		format := "%.0f%%"
		if m.tty {
			format = "%3.0f%%" // a steady width on a redrawn line
		}
		parts = append(parts, fmt.Sprintf(format, 100*m.fraction()))
	}
	parts = append(parts, count)
	if rate > 0 {
		parts = append(parts, m.amount(int64(rate+0.5))+"/s")
	}
	switch {
	case final:
		parts = append(parts, "in "+roundDuration(elapsed))
	case m.total > 0 && rate > 0 && m.done < m.total:
		parts = append(parts, "ETA "+roundDuration(time.Duration(float64(m.total-m.done)/rate*float64(time.Second))))
	default:
		parts = append(parts, roundDuration(elapsed))
	}
	if !m.tty {
		return m.label + ": " + strings.Join(parts, ", ")
	}
	bar := ""
	if m.total > 0 {
		full := int(m.fraction() * float64(m.opts.Width))
		switch {
		case full >= m.opts.Width:
			bar = strings.Repeat("=", m.opts.Width)
		default:
			bar = strings.Repeat("=", full) + ">" + strings.Repeat(" ", m.opts.Width-full-1)
		}
		bar = "[" + bar + "] "
	}
	return m.label + " " + bar + strings.Join(parts, " ")
}

func (m *Meter) fraction() float64 {
	if m.total <= 0 {
		return 0
	}
	return min(float64(m.done)/float64(m.total), 1)
}

// amount renders n in the meter's unit: bytes in binary multiples, other
// counts with thousands separators.
func (m *Meter) amount(n int64) string {
	if m.opts.Unit == "bytes" {
		return Bytes(n)
	}
	return Count(n)
}

// Count renders n with commas between groups of three digits: 1,234,567.
func Count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Bytes renders n bytes in B, KiB, MiB, GiB or TiB, with one decimal
// beyond bytes: 1536 is "1.5 KiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit && exp < 3; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}

// roundDuration renders d to a precision that suits its size: 850ms, 4s,
// 2m5s, 1h3m.
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
}
