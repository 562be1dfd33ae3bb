package progressive

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable writes s as a title line and an aligned table with one row per
// stage: stage, epochs (first-last, 0-based, inclusive), image size,
// RandAugment magnitude, Mixup alpha and dropout.
func (s Schedule) WriteTable(w io.Writer) error {
	p := s.Preset
	if _, err := fmt.Fprintf(w, "%s: %d epochs in %d stages (%v formula)\n", p.Name, s.Epochs, len(s.Stages), p.Formula); err != nil {
		return fmt.Errorf("progressive: writing the schedule table: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "stage\tepochs\timage size\trandaugment\tmixup\tdropout\t\n")
	for _, st := range s.Stages {
		fmt.Fprintf(tw, "%d\t%d-%d\t%d\t%.2f\t%.3f\t%.3f\t\n",
			st.Index, st.FirstEpoch, st.LastEpoch(), st.ImageSize, st.RandAugmentMagnitude, st.MixupAlpha, st.Dropout)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("progressive: writing the schedule table: %w", err)
	}
	return nil
}

// WriteJSON writes s as indented JSON: the preset, the total epochs and the
// stages, with the field names of their json tags.
func (s Schedule) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("progressive: writing the schedule as JSON: %w", err)
	}
	return nil
}
