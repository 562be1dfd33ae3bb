package arch

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestLookupKnowsEveryName(t *testing.T) {
	for _, name := range Names() {
		cfg, err := Lookup(name, 10)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", name, err)
		}
		if cfg.Name != name || cfg.Classes != 10 || cfg.InputChannels != 3 {
			t.Errorf("%s: got name %q classes %d input channels %d", name, cfg.Name, cfg.Classes, cfg.InputChannels)
		}
		if cfg.BNEps != 1e-3 || cfg.BNMomentum != 0.1 || cfg.StochasticDepth != 0.2 {
			t.Errorf("%s: eps %g momentum %g stochastic depth %g, want 1e-3, 0.1, 0.2", name, cfg.BNEps, cfg.BNMomentum, cfg.StochasticDepth)
		}
		if cfg.Stem != cfg.Stages[0].In {
			t.Errorf("%s: stem %d but stage 1 takes %d", name, cfg.Stem, cfg.Stages[0].In)
		}
	}
	if _, err := Lookup(" EfficientNetV2-S ", 1000); err != nil {
		t.Errorf("Lookup should ignore case and surrounding space: %v", err)
	}
}

func TestLookupErrors(t *testing.T) {
	_, err := Lookup("efficientnetv2-xl", 1000)
	if err == nil || !strings.Contains(err.Error(), `unknown model "efficientnetv2-xl": known models are`) {
		t.Fatalf("unknown model: %v", err)
	}
	for _, name := range Names() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list %s", err, name)
		}
	}
	if _, err := Lookup(S, 0); err == nil || !strings.Contains(err.Error(), "classes 0") {
		t.Errorf("0 classes: got %v", err)
	}
}

func TestLookupReturnsFreshCopies(t *testing.T) {
	a, _ := Lookup(S, 1000)
	a.Stages[0].Repeats = 99
	b, _ := Lookup(S, 1000)
	if b.Stages[0].Repeats != 2 {
		t.Fatalf("editing one config changed the next Lookup: repeats %d", b.Stages[0].Repeats)
	}
}

func TestDropoutAndSizes(t *testing.T) {
	want := map[string][3]float64{ // dropout, train size, eval size
		S: {0.2, 300, 384}, M: {0.3, 384, 480}, L: {0.4, 384, 480},
		B0: {0.2, 192, 224}, B1: {0.2, 192, 240}, B2: {0.3, 208, 260}, B3: {0.3, 240, 300},
	}
	for name, w := range want {
		cfg, _ := Lookup(name, 1000)
		if cfg.Dropout != w[0] || float64(cfg.TrainSize) != w[1] || float64(cfg.EvalSize) != w[2] {
			t.Errorf("%s: dropout %g train %d eval %d, want %v", name, cfg.Dropout, cfg.TrainSize, cfg.EvalSize, w)
		}
	}
}

// TestStageTables checks the tables against the paper / torchvision as
// (kind, expand, stride, in, out, repeats) rows.
func TestStageTables(t *testing.T) {
	type row [6]int // kind, expand, stride, in, out, repeats
	const f, m = int(FusedMBConv), int(MBConv)
	want := map[string][]row{
		S:    {{f, 1, 1, 24, 24, 2}, {f, 4, 2, 24, 48, 4}, {f, 4, 2, 48, 64, 4}, {m, 4, 2, 64, 128, 6}, {m, 6, 1, 128, 160, 9}, {m, 6, 2, 160, 256, 15}},
		M:    {{f, 1, 1, 24, 24, 3}, {f, 4, 2, 24, 48, 5}, {f, 4, 2, 48, 80, 5}, {m, 4, 2, 80, 160, 7}, {m, 6, 1, 160, 176, 14}, {m, 6, 2, 176, 304, 18}, {m, 6, 1, 304, 512, 5}},
		L:    {{f, 1, 1, 32, 32, 4}, {f, 4, 2, 32, 64, 7}, {f, 4, 2, 64, 96, 7}, {m, 4, 2, 96, 192, 10}, {m, 6, 1, 192, 224, 19}, {m, 6, 2, 224, 384, 25}, {m, 6, 1, 384, 640, 7}},
		B0:   {{f, 1, 1, 32, 16, 1}, {f, 4, 2, 16, 32, 2}, {f, 4, 2, 32, 48, 2}, {m, 4, 2, 48, 96, 3}, {m, 6, 1, 96, 112, 5}, {m, 6, 2, 112, 192, 8}},
		B1:   {{f, 1, 1, 32, 16, 2}, {f, 4, 2, 16, 32, 3}, {f, 4, 2, 32, 48, 3}, {m, 4, 2, 48, 96, 4}, {m, 6, 1, 96, 112, 6}, {m, 6, 2, 112, 192, 9}},
		B2:   {{f, 1, 1, 32, 16, 2}, {f, 4, 2, 16, 32, 3}, {f, 4, 2, 32, 56, 3}, {m, 4, 2, 56, 104, 4}, {m, 6, 1, 104, 120, 6}, {m, 6, 2, 120, 208, 10}},
		B3:   {{f, 1, 1, 40, 16, 2}, {f, 4, 2, 16, 40, 3}, {f, 4, 2, 40, 56, 3}, {m, 4, 2, 56, 112, 5}, {m, 6, 1, 112, 136, 7}, {m, 6, 2, 136, 232, 12}},
		Pico: {{f, 1, 1, 16, 16, 1}, {f, 4, 2, 16, 24, 2}, {m, 4, 2, 24, 48, 2}, {m, 6, 1, 48, 64, 1}},
	}
	heads := map[string]int{S: 1280, M: 1280, L: 1280, B0: 1280, B1: 1280, B2: 1408, B3: 1536, Pico: 256}
	for name, rows := range want {
		cfg, _ := Lookup(name, 1000)
		var got []row
		for _, s := range cfg.Stages {
			if s.Kernel != 3 {
				t.Errorf("%s: kernel %d, the family uses 3", name, s.Kernel)
			}
			got = append(got, row{int(s.Kind), s.Expand, s.Stride, s.In, s.Out, s.Repeats})
		}
		if !slices.Equal(got, rows) {
			t.Errorf("%s stages:\n got %v\nwant %v", name, got, rows)
		}
		if cfg.Head != heads[name] {
			t.Errorf("%s: head %d, want %d", name, cfg.Head, heads[name])
		}
	}
}

func TestValidateRejectsBadSettings(t *testing.T) {
	cases := map[string]func(*Config){
		"classes":          func(c *Config) { c.Classes = 0 },
		"input channels":   func(c *Config) { c.InputChannels = 0 },
		"dropout":          func(c *Config) { c.Dropout = 1 },
		"stochastic depth": func(c *Config) { c.StochasticDepth = -0.1 },
		"batch-norm eps":   func(c *Config) { c.BNEps = 0 },
		"momentum":         func(c *Config) { c.BNMomentum = 0.99 + 1 },
		"does not match":   func(c *Config) { c.Stages[1].In = 17 },
		"kernel":           func(c *Config) { c.Stages[0].Kernel = 4 },
		"stride":           func(c *Config) { c.Stages[0].Stride = 3 },
		"repeats":          func(c *Config) { c.Stages[2].Repeats = 0 },
		"expand":           func(c *Config) { c.Stages[2].Expand = 0 },
		"block kind":       func(c *Config) { c.Stages[2].Kind = 0 },
		"no stages":        func(c *Config) { c.Stages = nil },
	}
	for want, edit := range cases {
		cfg, _ := Lookup(Pico, 10)
		edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), Pico) {
			t.Errorf("%s: got %v", want, err)
		}
		if _, err := cfg.Summary(64); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Summary of an invalid config: %v", want, err)
		}
	}
	cfg, _ := Lookup(Pico, 10)
	cfg.BNMomentum = 0.01
	if err := cfg.Validate(); err != nil {
		t.Errorf("momentum 0.01 is a valid setting: %v", err)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	cfg, _ := Lookup(B2, 100)
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip changed the config:\n%+v\n%+v", cfg, back)
	}
	var k BlockKind
	if err := json.Unmarshal([]byte(`"Fused"`), &k); err == nil || !strings.Contains(err.Error(), `unknown block kind "Fused"`) {
		t.Errorf("unknown block kind: %v", err)
	}
}
