// Package ref is the float64 CPU reference of every operation in an
// EfficientNetV2 training step. It is the specification the GLSL kernels are
// tested against (forward relative error <= 1e-5, backward <= 1e-4): every
// function is a plain loop whose doc comment gives its formula.
//
// Conventions:
//   - Tensors are []float64 in NCHW layout, row-major; a Shape4 names their
//     dimensions. Weights are [OC,C,K,K] (regular conv), [C,1,K,K]
//     (depthwise) and [Out,In] (linear).
//   - A k x k convolution pads symmetrically by p = (k-1)/2 (torchvision's
//     padding) and has output size (H + 2p - k)/s + 1 (ConvOutSize).
//   - Every result is freshly allocated and overwritten, never accumulated;
//     the only in-place function is BatchNormUpdateRunning, which says so.
//   - Backward functions take the gradient of the output (dy) first, then
//     the saved tensors, and return the gradient of each input that needs
//     one.
//
// Operations, one file each: Conv2D* (conv2d.go), Depthwise* (depthwise.go),
// BatchNorm* (batchnorm.go), SiLU*/Sigmoid* (activation.go),
// GlobalAvgPool* (pool.go), Linear* (linear.go), ChannelScale*
// (channel_scale.go), AddForward (add.go), Philox4x32 and Uniform
// (philox.go), DropPath* (droppath.go), Dropout* (dropout.go),
// SoftmaxCrossEntropy (cross_entropy.go), ResizeBilinear (resize.go),
// PrepareInput (prepare_input.go), Sum/Mean/L2Norm (reduce.go).
//
// Tests check every backward against central finite differences of its
// forward, and compare conv2d, depthwise, batch norm, bilinear resize, input
// preparation, cross entropy, SiLU, sigmoid and linear with PyTorch in
// float64 (testdata/torch_reference.py, run by torch_test.go).
//
// Argument order follows the brief each GPU kernel is written against:
// output shapes are returned beside the output. The package is a test oracle
// used by tests and the kernel conformance suite, never by user-facing code:
// inconsistent lengths or shapes are programming errors and panic with a
// message that names the operation, the argument and the expected size.
//
// Random numbers come from Philox4x32-10 (Salmon et al. 2011), keyed by the
// run's seed and addressed by (step, stream, index), so a kernel and this
// reference draw exactly the same masks for drop path and dropout.
package ref
