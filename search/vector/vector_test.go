package vector_test

import (
	"errors"
	"math"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

func TestCheck(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name    string
		v       []float32
		dim     int
		wantErr error // nil, vector.ErrInvalid or vector.ErrDimensionMismatch
	}{
		{"ok", []float32{0.6, 0.8}, 2, nil},
		{"not normalised is ok", []float32{3, 4, 0}, 3, nil},
		{"nil", nil, 2, vector.ErrInvalid},
		{"empty", []float32{}, 0, vector.ErrInvalid},
		{"too short", []float32{1}, 2, vector.ErrDimensionMismatch},
		{"too long", []float32{1, 0, 0}, 2, vector.ErrDimensionMismatch},
		{"NaN", []float32{1, nan}, 2, vector.ErrInvalid},
		{"+Inf", []float32{inf, 0}, 2, vector.ErrInvalid},
		{"-Inf", []float32{0, -inf}, 2, vector.ErrInvalid},
		{"all zeros", []float32{0, 0}, 2, vector.ErrInvalid},
		{"negative zero", []float32{float32(math.Copysign(0, -1)), 0}, 2, vector.ErrInvalid},
		{"tiny but non-zero", []float32{math.SmallestNonzeroFloat32, 0}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vector.Check(tt.v, tt.dim)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check = %v, want errors.Is %v", err, tt.wantErr)
			}
			other := vector.ErrInvalid
			if tt.wantErr == vector.ErrInvalid {
				other = vector.ErrDimensionMismatch
			}
			if errors.Is(err, other) {
				t.Errorf("Check = %v, also matches %v", err, other)
			}
		})
	}
}

func TestDimensionError(t *testing.T) {
	err := vector.Check(make([]float32, 3), 384)
	var de *vector.DimensionError
	if !errors.As(err, &de) {
		t.Fatalf("Check = %v (%T), want *DimensionError", err, err)
	}
	if de.Got != 3 || de.Want != 384 {
		t.Errorf("DimensionError = %+v, want Got 3, Want 384", de)
	}
	if got, want := err.Error(), "vector: dimension 3, want 384"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := errors.Join(errors.New("store memory"), err)
	if !errors.Is(wrapped, vector.ErrDimensionMismatch) {
		t.Errorf("wrapped DimensionError does not match ErrDimensionMismatch")
	}
}

func TestNormalize(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		v    []float32
		want []float32
	}{
		{"3-4-5", []float32{3, 4}, []float32{0.6, 0.8}},
		{"already unit", []float32{0, -1, 0}, []float32{0, -1, 0}},
		{"zero stays zero", []float32{0, 0, 0}, []float32{0, 0, 0}},
		{"empty", []float32{}, []float32{}},
		{"huge values do not overflow", []float32{3e38, 3e38}, []float32{0.70710677, 0.70710677}},
		{"tiny values do not underflow", []float32{3e-38, 4e-38}, []float32{0.6, 0.8}},
		{"NaN left alone", []float32{1, nan}, []float32{1, nan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := append([]float32(nil), tt.v...)
			vector.Normalize(v)
			for i := range v {
				if !(approx(v[i], tt.want[i], 1e-6) || math.IsNaN(float64(v[i])) && math.IsNaN(float64(tt.want[i]))) {
					t.Fatalf("Normalize(%v) = %v, want %v", tt.v, v, tt.want)
				}
			}
		})
	}
}

func TestCosineAndDot(t *testing.T) {
	long := func(f func(i int) float32) []float32 {
		v := make([]float32, 37) // not a multiple of the unrolling
		for i := range v {
			v[i] = f(i)
		}
		return v
	}
	tests := []struct {
		name       string
		a, b       []float32
		cos, dot   float32
		normalised bool // Dot equals Cosine
	}{
		{"identical unit", []float32{0.6, 0.8}, []float32{0.6, 0.8}, 1, 1, true},
		{"opposite", []float32{1, 0}, []float32{-1, 0}, -1, -1, true},
		{"orthogonal", []float32{1, 0, 0}, []float32{0, 0, 1}, 0, 0, true},
		{"not normalised", []float32{3, 4}, []float32{6, 8}, 1, 50, false},
		{"zero vector", []float32{0, 0}, []float32{1, 0}, 0, 0, false},
		{"empty", []float32{}, []float32{}, 0, 0, false},
		{"long, same direction", long(func(i int) float32 { return float32(i + 1) }),
			long(func(i int) float32 { return float32(2*i + 2) }), 1, 35150, false},
		{"long, alternating", long(func(i int) float32 { return 1 }),
			long(func(i int) float32 { return float32(1 - 2*(i%2)) }), 1.0 / 37, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vector.Cosine(tt.a, tt.b); !approx(got, tt.cos, 1e-6) {
				t.Errorf("Cosine = %v, want %v", got, tt.cos)
			}
			if got := vector.Dot(tt.a, tt.b); !approx(got, tt.dot, 1e-6*max(1, tt.dot)) {
				t.Errorf("Dot = %v, want %v", got, tt.dot)
			}
			if got := vector.Cosine(tt.b, tt.a); !approx(got, tt.cos, 1e-6) {
				t.Errorf("Cosine not symmetric: %v", got)
			}
		})
	}
}

func TestCosineLengthMismatchPanics(t *testing.T) {
	for name, f := range map[string]func(a, b []float32) float32{"Cosine": vector.Cosine, "Dot": vector.Dot} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s of different lengths did not panic", name)
				}
			}()
			f(make([]float32, 3), make([]float32, 4))
		})
	}
}

func approx(got, want, tol float32) bool {
	return float32(math.Abs(float64(got-want))) <= tol
}

func benchVectors(b *testing.B, dim int) (x, y []float32) {
	b.Helper()
	x, y = make([]float32, dim), make([]float32, dim)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
		y[i] = float32(math.Cos(float64(i)))
	}
	vector.Normalize(x)
	vector.Normalize(y)
	return x, y
}

func BenchmarkCosine384(b *testing.B) {
	x, y := benchVectors(b, 384)
	b.ReportAllocs()
	var sink float32
	for b.Loop() {
		sink += vector.Cosine(x, y)
	}
	_ = sink
}

func BenchmarkDot384(b *testing.B) {
	x, y := benchVectors(b, 384)
	b.ReportAllocs()
	var sink float32
	for b.Loop() {
		sink += vector.Dot(x, y)
	}
	_ = sink
}
