package ref

import (
	"math"
	"testing"
)

func TestReductions(t *testing.T) {
	a, b := []float64{1, -2, 3}, []float64{4, 0}
	if got := Sum(a, b); got != 6 {
		t.Errorf("Sum = %v, want 6", got)
	}
	if got := Mean(a, nil, b); got != 6.0/5 {
		t.Errorf("Mean = %v, want 1.2", got)
	}
	if got := L2Norm(a, b); got != math.Sqrt(30) {
		t.Errorf("L2Norm = %v, want sqrt(30)", got)
	}
	if got := Mean(); !math.IsNaN(got) {
		t.Errorf("Mean() = %v, want NaN", got)
	}
	if got := Sum(); got != 0 {
		t.Errorf("Sum() = %v, want 0", got)
	}
}
