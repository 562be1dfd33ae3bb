package progressive

import (
	"fmt"
	"strings"
)

// Formula selects how stage values are derived from a preset's ranges; see the
// package documentation for both.
type Formula int

const (
	// Paper is Algorithm 1 of the paper: linear interpolation i/(M-1) for every
	// setting, image sizes rounded to the preset's SizeMultiple. The default.
	Paper Formula = iota
	// Official is the google/automl training script: image size
	// floor(Min + (Max-Min)*(i+1)/M), dropout fixed at its maximum.
	Official
)

// formulaNames maps each Formula to the name used on the command line and in
// JSON.
var formulaNames = map[Formula]string{Paper: "paper", Official: "official"}

// String returns "paper" or "official".
func (f Formula) String() string {
	if name, ok := formulaNames[f]; ok {
		return name
	}
	return fmt.Sprintf("Formula(%d)", int(f))
}

// ParseFormula returns the Formula named s ("paper" or "official", any case).
func ParseFormula(s string) (Formula, error) {
	want := strings.ToLower(strings.TrimSpace(s))
	for f, name := range formulaNames {
		if name == want {
			return f, nil
		}
	}
	return Paper, fmt.Errorf("progressive: unknown formula %q (use %q or %q)", s, Paper, Official)
}

// MarshalText writes the formula's name, so JSON shows "paper" or "official".
func (f Formula) MarshalText() ([]byte, error) {
	if _, ok := formulaNames[f]; !ok {
		return nil, fmt.Errorf("progressive: cannot encode unknown %v", f)
	}
	return []byte(f.String()), nil
}

// UnmarshalText reads a formula's name, as ParseFormula does.
func (f *Formula) UnmarshalText(text []byte) error {
	parsed, err := ParseFormula(string(text))
	if err != nil {
		return err
	}
	*f = parsed
	return nil
}
