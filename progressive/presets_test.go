package progressive

import (
	"strings"
	"testing"
)

func TestPresetForKnownModels(t *testing.T) {
	cases := []struct {
		model                   string
		minSize, maxSize        int
		randAugment, mixup, drp Range
	}{
		{"efficientnetv2-s", 128, 300, Range{5, 15}, Range{0, 0}, Range{0.1, 0.3}},
		{"efficientnetv2-m", 128, 380, Range{5, 20}, Range{0, 0.2}, Range{0.1, 0.4}},
		{"efficientnetv2-l", 128, 380, Range{5, 25}, Range{0, 0.4}, Range{0.1, 0.5}},
		{"efficientnetv2-b0", 128, 192, Range{5, 15}, Range{0, 0}, Range{0.1, 0.2}},
		{"efficientnetv2-b1", 128, 192, Range{5, 15}, Range{0, 0}, Range{0.1, 0.2}},
		{"efficientnetv2-b2", 128, 208, Range{5, 15}, Range{0, 0}, Range{0.1, 0.3}},
		{"efficientnetv2-b3", 128, 240, Range{5, 15}, Range{0, 0}, Range{0.1, 0.3}},
		{"efficientnetv2-pico", 16, 28, Range{0, 5}, Range{0, 0}, Range{0.05, 0.2}},
	}
	for _, c := range cases {
		p, err := PresetFor(c.model)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != c.model || p.Stages != 4 || p.Formula != Paper {
			t.Errorf("%s: name %q, %d stages, %v formula; want its own name, 4 stages, paper", c.model, p.Name, p.Stages, p.Formula)
		}
		if p.ImageSize != (SizeRange{c.minSize, c.maxSize}) || p.RandAugmentMagnitude != c.randAugment || p.MixupAlpha != c.mixup || p.Dropout != c.drp {
			t.Errorf("%s: %+v", c.model, p)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: shipped preset is invalid: %v", c.model, err)
		}
	}
	if len(Presets()) != len(cases) {
		t.Errorf("Presets() has %d entries, the test knows %d", len(Presets()), len(cases))
	}
}

func TestPresetForIgnoresCaseAndSpace(t *testing.T) {
	p, err := PresetFor("  EfficientNetV2-M ")
	if err != nil || p.Name != "efficientnetv2-m" {
		t.Errorf("PresetFor with odd case = %q, %v; want efficientnetv2-m", p.Name, err)
	}
}

func TestPresetForUnknownListsKnownNames(t *testing.T) {
	_, err := PresetFor("resnet50")
	if err == nil {
		t.Fatal("PresetFor(resnet50) returned no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, `"resnet50"`) {
		t.Errorf("error %q does not name the bad input", msg)
	}
	for _, name := range Names() {
		if !strings.Contains(msg, name) {
			t.Errorf("error %q does not list %s", msg, name)
		}
	}
}

func TestPresetsReturnsFreshCopies(t *testing.T) {
	a := Presets()
	a[0].Stages = 99
	if b := Presets(); b[0].Stages != 4 {
		t.Errorf("changing one Presets() result changed the next: %d stages", b[0].Stages)
	}
}

func TestParseFormula(t *testing.T) {
	for in, want := range map[string]Formula{"paper": Paper, "Official": Official, " PAPER ": Paper} {
		got, err := ParseFormula(in)
		if err != nil || got != want {
			t.Errorf("ParseFormula(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseFormula("linear"); err == nil || !strings.Contains(err.Error(), `"paper"`) {
		t.Errorf("ParseFormula(linear): error %v, want one listing the formulas", err)
	}
	if _, err := Formula(5).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown formula returned no error")
	}
}
