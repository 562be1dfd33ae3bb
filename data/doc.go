// Package data owns the host side of the input pipeline: datasets, data
// augmentation and a bounded, prefetching batch loader. It knows nothing of
// Vulkan; its one C dependency is libjpeg-turbo (cgo, -lturbojpeg), which
// decodes JPEGs.
//
// The contract with the GPU side: a Batch holds N uint8 images in NHWC order,
// all with the same H, W and C. Normalization and the bilinear resize to the
// stage's image size happen on the device, so the host stays in uint8.
//
// Datasets (all implement Dataset):
//   - Fashion-MNIST IDX files, gzipped or plain: OpenFashionMNIST.
//   - ImageFolder trees root/<class>/*.{jpg,jpeg,png}, decoded lazily and
//     converted to RGB: OpenImageFolder. JPEGs go through libjpeg-turbo
//     (within 4 levels of image/jpeg, tested), at a DCT scale of 1/2, 1/4
//     or 1/8 when the loader's Size keeps the shorter side at least that
//     large (ImageAtLeast; Options.FullSizeDecode turns it off); others,
//     and JPEGs libjpeg-turbo rejects, through the standard library.
//   - CIFAR-10 and CIFAR-100 binary files: OpenCIFAR10, OpenCIFAR100.
//   - Subset, a view of another dataset through a list of indices.
//
// Augmentation follows timm/torchvision: RandomResizedCrop, HorizontalFlip,
// RandAugment (14 ops, magnitude on the 0..30 scale, torchvision's ranges;
// geometric ops sample bilinearly and fill with 0; Solarize's threshold is
// 256*(1-M/30), so every op with a magnitude is the identity at 0), Mixup
// and CutMix with soft targets (the batch is paired with its reverse order).
// Resizing is bilinear without antialiasing, in fixed point. Every random
// choice comes from a PCG generator seeded from (seed, epoch, sample index),
// or (seed, epoch, batch index) for batch-level mixing, so a batch does not
// depend on how many workers built it or in which order.
//
// A Loader walks one epoch:
//
//	l, err := data.NewLoader(ds, data.Options{BatchSize: 128, Shuffle: true, Seed: 1, Epoch: e, Workers: 4})
//	if err != nil { ... }
//	defer l.Close()
//	for {
//		b, err := l.Next()
//		if err == io.EOF { break }
//		if err != nil { ... }
//		// use b.Images, b.Labels, b.Targets
//		l.Release(b)
//	}
package data
