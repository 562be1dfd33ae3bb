package viz

// theme holds every colour the window uses. Curve colours appear nowhere
// else, so a test can find a curve by its colour.
var theme = struct {
	Background, Panel, PlotBG, Grid, Axis, Stage Color
	Title, Text, Dim, Good, Bad, Bar             Color
	Loss, TrainTop1, EvalTop1, EMATop1, LR       Color
}{
	Background: Color{20, 22, 28},
	Panel:      Color{32, 35, 43},
	PlotBG:     Color{26, 28, 35},
	Grid:       Color{50, 54, 64},
	Axis:       Color{95, 100, 112},
	Stage:      Color{150, 150, 175},
	Title:      Color{235, 235, 240},
	Text:       Color{170, 175, 186},
	Dim:        Color{110, 114, 124},
	Good:       Color{100, 210, 120},
	Bad:        Color{235, 90, 80},
	Bar:        Color{90, 140, 220},
	Loss:       Color{255, 140, 40},
	TrainTop1:  Color{70, 150, 255},
	EvalTop1:   Color{60, 220, 110},
	EMATop1:    Color{240, 80, 210},
	LR:         Color{245, 215, 60},
}

// CurveColors are the colours of the loss, train top-1, eval top-1, EMA
// top-1 and learning-rate curves, for tests and docs.
func CurveColors() (loss, trainTop1, evalTop1, emaTop1, lr Color) {
	return theme.Loss, theme.TrainTop1, theme.EvalTop1, theme.EMATop1, theme.LR
}
