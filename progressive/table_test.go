package progressive

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestWriteTable(t *testing.T) {
	s := mustPlan(t, "efficientnetv2-s", 350, nil)
	var buf bytes.Buffer
	if err := s.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	want := `efficientnetv2-s: 350 epochs in 4 stages (paper formula)
  stage   epochs  image size  randaugment  mixup  dropout
      0     0-87         128         5.00  0.000    0.100
      1   88-175         184         8.33  0.000    0.167
      2  176-262         240        11.67  0.000    0.233
      3  263-349         300        15.00  0.000    0.300
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteJSONRoundTrips(t *testing.T) {
	s := mustPlan(t, "efficientnetv2-m", 30, func(p Preset) Preset { return p.WithFormula(Official) })
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(buf.Bytes(), &fields); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
	}
	if f := fields["preset"].(map[string]any)["formula"]; f != "official" {
		t.Errorf("formula encoded as %v, want \"official\"", f)
	}
	var back Schedule
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("JSON round trip changed the schedule:\n got %+v\nwant %+v", back, s)
	}
}
