package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultFashionMNISTDir is where the Debian package puts the Fashion-MNIST
// files; OpenFashionMNIST uses it when dir is empty.
const DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTClasses are the ten Fashion-MNIST class names, indexed by label.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// OpenFashionMNIST loads the "train" or "test" split of Fashion-MNIST from
// dir (DefaultFashionMNISTDir when empty). It reads
// {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, or the same names without
// .gz, and checks magic numbers, dimensions, counts and labels. Images are
// 28x28 with one channel.
func OpenFashionMNIST(dir, split string) (Dataset, error) {
	if dir == "" {
		dir = DefaultFashionMNISTDir
	}
	var prefix string
	switch split {
	case "train":
		prefix = "train"
	case "test":
		prefix = "t10k"
	default:
		return nil, fmt.Errorf("data: Fashion-MNIST split %q: want \"train\" or \"test\"", split)
	}
	imagesPath, err := findIDX(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	labelsPath, err := findIDX(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	images, err := readIDXFile(imagesPath, 3)
	if err != nil {
		return nil, err
	}
	labels, err := readIDXFile(labelsPath, 1)
	if err != nil {
		return nil, err
	}
	n := images.dims[0]
	if labels.dims[0] != n {
		return nil, fmt.Errorf("data: %s has %d labels but %s has %d images", labelsPath, labels.dims[0], imagesPath, n)
	}
	for i, l := range labels.data {
		if int(l) >= len(FashionMNISTClasses) {
			return nil, fmt.Errorf("data: %s: label %d of sample %d is not a Fashion-MNIST class (0..9)", labelsPath, l, i)
		}
	}
	return &memoryDataset{
		what:    "fashion-mnist " + split,
		pixels:  images.data,
		labels:  labels.data,
		n:       n,
		h:       images.dims[1],
		w:       images.dims[2],
		c:       1,
		classes: FashionMNISTClasses,
	}, nil
}

// findIDX returns dir/base.gz, or dir/base when only the uncompressed file
// exists.
func findIDX(dir, base string) (string, error) {
	gz := filepath.Join(dir, base+".gz")
	if _, err := os.Stat(gz); err == nil {
		return gz, nil
	}
	plain := filepath.Join(dir, base)
	if _, err := os.Stat(plain); err == nil {
		return plain, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("data: %w", err)
	}
	return "", fmt.Errorf("data: neither %s nor %s exists (install the Fashion-MNIST files or pass their directory)", gz, plain)
}
