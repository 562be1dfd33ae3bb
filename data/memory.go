package data

// memoryDataset holds fixed-size images and their labels in memory; it backs
// the Fashion-MNIST and CIFAR datasets.
type memoryDataset struct {
	what    string  // for error messages, e.g. "fashion-mnist train"
	pixels  []uint8 // [n][h][w][c]
	labels  []uint8 // [n]
	n       int
	h, w, c int
	classes []string
}

// Len returns the number of samples.
func (m *memoryDataset) Len() int { return m.n }

// NumClasses returns the number of classes.
func (m *memoryDataset) NumClasses() int { return len(m.classes) }

// ClassNames returns a copy of the class names, indexed by label.
func (m *memoryDataset) ClassNames() []string { return append([]string(nil), m.classes...) }

// Channels returns 1 for grayscale and 3 for RGB.
func (m *memoryDataset) Channels() int { return m.c }

// Image returns a read-only view of sample i.
func (m *memoryDataset) Image(i int) ([]uint8, int, int, error) {
	if err := checkIndex(m.what, i, m.n); err != nil {
		return nil, 0, 0, err
	}
	size := m.h * m.w * m.c
	return m.pixels[i*size : (i+1)*size : (i+1)*size], m.h, m.w, nil
}

// Label returns the class of sample i.
func (m *memoryDataset) Label(i int) int { return int(m.labels[i]) }
