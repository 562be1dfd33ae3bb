package dist

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Setting is one named value every rank must hold alike (a flag, the
// model's parameter count, the dataset's size).
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Agree checks that every rank holds the same settings, rank 0's being the
// reference. Every rank returns an error when any rank differs: a rank that
// differs names its first difference, the others name the ranks that
// differ. It is collective: every rank must call it.
func (c *Comm) Agree(settings []Setting) error {
	if !c.Distributed() {
		return nil
	}
	mine, err := json.Marshal(settings)
	if err != nil {
		return err
	}
	ref, err := c.BroadcastBytes(mine, 0)
	if err != nil {
		return err
	}
	var reference []Setting
	if err := json.Unmarshal(ref, &reference); err != nil {
		return fmt.Errorf("dist: rank 0's settings: %w", err)
	}
	diff := firstDifference(reference, settings, c.rank)
	flags := make([]float64, c.size)
	if diff != "" {
		flags[c.rank] = 1
	}
	if err := c.SumFloat64(flags); err != nil {
		return err
	}
	var bad []string
	for r, f := range flags {
		if f != 0 {
			bad = append(bad, fmt.Sprint(r))
		}
	}
	switch {
	case diff != "":
		return fmt.Errorf("%w: %s: launch every rank with the same flags and data", ErrRanksDisagree, diff)
	case len(bad) > 0:
		return fmt.Errorf("%w: rank(s) %s differ from rank 0 (their errors name the difference)", ErrRanksDisagree, strings.Join(bad, ", "))
	}
	return nil
}

// firstDifference describes the first setting where mine differs from
// rank 0's reference, "" when none does.
func firstDifference(reference, mine []Setting, rank int) string {
	refByName := map[string]string{}
	for _, s := range reference {
		refByName[s.Name] = s.Value
	}
	for _, s := range mine {
		v, ok := refByName[s.Name]
		if !ok {
			return fmt.Sprintf("rank %d has %s %q, rank 0 has no such setting (another effv2vk version?)", rank, s.Name, s.Value)
		}
		if v != s.Value {
			return fmt.Sprintf("rank %d has %s %s, rank 0 has %s", rank, s.Name, s.Value, v)
		}
	}
	if len(mine) != len(reference) {
		return fmt.Sprintf("rank %d has %d settings, rank 0 has %d (another effv2vk version?)", rank, len(mine), len(reference))
	}
	return ""
}
