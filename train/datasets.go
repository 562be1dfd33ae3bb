package train

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/effv2vk/effv2vk/data"
)

// normalization returns the per-channel mean and std of a dataset (for
// gray images the same value thrice).
func normalization(dataset string) (mean, std [3]float32) {
	switch strings.ToLower(dataset) {
	case "fashion-mnist":
		return [3]float32{0.2860, 0.2860, 0.2860}, [3]float32{0.3530, 0.3530, 0.3530}
	case "cifar10", "cifar100":
		return [3]float32{0.4914, 0.4822, 0.4465}, [3]float32{0.2470, 0.2435, 0.2616}
	}
	return [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225} // ImageNet
}

// openDatasets opens the train and test splits named by cfg.
func openDatasets(cfg Config) (trainDS, testDS data.Dataset, err error) {
	switch strings.ToLower(cfg.Dataset) {
	case "fashion-mnist":
		if trainDS, err = data.OpenFashionMNIST(cfg.DataDir, "train"); err == nil {
			testDS, err = data.OpenFashionMNIST(cfg.DataDir, "test")
		}
	case "cifar10":
		if trainDS, err = data.OpenCIFAR10(cfg.DataDir, "train"); err == nil {
			testDS, err = data.OpenCIFAR10(cfg.DataDir, "test")
		}
	case "cifar100":
		if trainDS, err = data.OpenCIFAR100(cfg.DataDir, "train"); err == nil {
			testDS, err = data.OpenCIFAR100(cfg.DataDir, "test")
		}
	case "imagefolder":
		if cfg.DataDir == "" {
			return nil, nil, fmt.Errorf("train: --dataset imagefolder needs --data DIR with train/ and val/ inside")
		}
		var tr, va *data.ImageFolder
		if tr, err = data.OpenImageFolder(filepath.Join(cfg.DataDir, "train")); err == nil {
			trainDS = tr
			if va, err = data.OpenImageFolder(filepath.Join(cfg.DataDir, "val")); err == nil {
				testDS = va
			}
		}
	default:
		return nil, nil, fmt.Errorf("train: unknown dataset %q", cfg.Dataset)
	}
	if err != nil {
		return nil, nil, err
	}
	if trainDS, err = limit(trainDS, cfg.TrainLimit); err != nil {
		return nil, nil, err
	}
	if testDS, err = limit(testDS, cfg.TestLimit); err != nil {
		return nil, nil, err
	}
	return trainDS, testDS, nil
}

func limit(ds data.Dataset, n int) (data.Dataset, error) {
	if n <= 0 || n >= ds.Len() {
		return ds, nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return data.Subset(ds, idx)
}
