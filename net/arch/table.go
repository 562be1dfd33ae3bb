package arch

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Format writes the summary as an aligned text table followed by the
// totals, one "key: value" line each (params: N, buffers: N,
// multiply-adds: N).
func (s Summary) Format(w io.Writer) error {
	fmt.Fprintf(w, "model %s, input %dx%dx%d, %d classes\n", s.Model, s.InputChannels, s.ImageSize, s.ImageSize, s.Classes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\toperator\tin\tout\tstride\tlayers\toutput\tparams\tmult-adds\t")
	for _, r := range s.Rows {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n",
			r.Stage, r.Operator, r.In, r.Out, r.Stride, r.Repeats, shapeString(r.OutputShape),
			humanCount(float64(r.Params)), humanCount(float64(r.MultiplyAdds)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "params: %d (%s)\nbuffers: %d\nmultiply-adds: %d (%s)\n",
		s.Params, humanCount(float64(s.Params)), s.Buffers, s.MultiplyAdds, humanCount(float64(s.MultiplyAdds)))
	return err
}

// String returns the text table Format writes.
func (s Summary) String() string {
	var b strings.Builder
	_ = s.Format(&b)
	return b.String()
}

// shapeString writes [64 48 48] as "64x48x48".
func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "x")
}

// humanCount writes 21458488 as "21.46M".
func humanCount(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2fK", v/1e3)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
