// Package progressive owns the progressive-learning schedule of EfficientNetV2
// (Tan & Le 2021, Algorithm 1 and Table 6): training is split into stages, and
// each stage trains at its own image size and regularization strength
// (RandAugment magnitude, Mixup alpha, dropout), all growing from a small first
// stage to the model's final setting. It is pure Go and knows nothing of Vulkan.
//
// A Preset holds the ranges for one model (PresetFor("efficientnetv2-s")), Plan
// turns a preset and a number of epochs into a Schedule of Stages, and the
// Schedule prints itself as a table (WriteTable) or JSON (WriteJSON).
//
// Two formulas are offered, for stage i of M (0-based):
//
//   - Paper (default), Algorithm 1: every value is
//     Min + (Max - Min) * i / (M - 1), so the first stage uses the minimum and
//     the last the maximum. Image sizes are rounded to the nearest multiple of
//     the preset's SizeMultiple (halves round up), except that the first and
//     last stages keep Min and Max exactly. Table 6's efficientnetv2-s thus
//     trains at 128, 184, 240, 300 (exact values 128, 185.3, 242.7, 300).
//   - Official, the google/automl efficientnetv2 training script: the image size
//     is floor(Min + (Max - Min) * (i + 1) / M) with no multiple-of rounding
//     (171, 214, 257, 300 for efficientnetv2-s), RandAugment magnitude and Mixup
//     alpha follow the paper's interpolation, and dropout stays fixed at
//     Dropout.Max.
//
// With a single stage both formulas use the maximum of every range: training
// without progressive learning trains at the model's final setting.
//
// Epochs are split as evenly as possible: each stage gets epochs/M, and the
// first epochs%M stages get one more (350 epochs in 4 stages: 88, 88, 87, 87).
// This holds for both formulas. (The official script ends stage i at step
// floor((i+1)/M * total), which gives 87, 88, 87, 88; the difference is at most
// one epoch per stage.)
//
// Epoch numbers are 0-based throughout: Stage.FirstEpoch of the first stage is
// 0, and Stage.LastEpoch of the last stage is epochs-1.
package progressive
