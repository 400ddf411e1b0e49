// Ghost batch normalisation (Hoffer et al. 2017), the normalisation of the paper's adversarially
// trained ResNets (PAPER.md 3.6, "EightBN"; the paper's models/ghost_bn.py GhostBN2D): in train()
// mode the BatchNorm statistics come from virtual sub-batches of virtual_batch_size images instead
// of the whole batch, emulating per-replica BatchNorm on small per-device batches.
//
// Train mode, input [N, C, H, W]:
//   * Split: contiguous chunks of virtual_batch_size images along N (images [0, v), [v, 2v), ...).
//     When N is not a multiple of v, the last chunk holds the remaining N mod v images and is
//     normalised with its own statistics. N <= v is one chunk, and then output and running
//     statistics are exactly BatchNorm2d's.
//   * Each chunk is normalised with its own mean and biased variance (as BatchNorm2d does with the
//     whole batch), then the shared per-channel affine weight / bias is applied.
//   * Running statistics: one set, updated once per forward with momentum m,
//       running_mean = (1 - m) running_mean + m * sum_k (n_k / N) mean_k
//       running_var  = (1 - m) running_var  + m * sum_k (n_k / N) unbiased_var_k
//     (the chunk-size-weighted average of what BatchNorm2d would record for each chunk), and
//     num_batches_tracked += 1.
//   * Every chunk needs more than one value per channel (n_k * H * W > 1), as for BatchNorm2d,
//     which throws c10::Error otherwise.
// Eval mode: normalises with the running statistics, exactly as BatchNorm2d.
//
// Parameters and buffers carry BatchNorm2d's names and shapes (weight, bias [C]; running_mean,
// running_var [C]; num_batches_tracked int64 scalar), initialised as BatchNorm2d (1, 0, 0, 1, 0),
// so state dicts interchange with plain-BN models and torchvision.
//
// Deviations from the paper's code, and why:
//   * The paper fixes the number r of virtual batches (virtual2actual_batch_size_ratio = 2) and
//     splits interleaved, by reshaping [N, C, H, W] to [N/r, rC, H, W]: virtual batch j holds
//     images j, j + r, j + 2r, ...; N must be a multiple of r. We fix the virtual batch *size*
//     (the paper's 128 images per GPU / 2 = 64), so the statistics do not depend on the batch a
//     caller happens to use, and split contiguously, which allows a remainder. For shuffled
//     batches both splits give identically distributed statistics.
//   * The paper keeps r running-statistic sets, one per virtual slot, and evaluates with slot 0's
//     (its default sync_stats=False). We keep one set fed with the average over the chunks, which
//     equals the average of the paper's per-slot sets (its sync_stats=True evaluation) for equal
//     chunks, and keeps BatchNorm2d's state-dict layout.
//   * The paper's EightBN also keeps one ghost BN per gradient-accumulation micro-step with a
//     shared affine (sheet 3.6); here each layer has one ghost BN, the simplification the sheet
//     suggests.
#ifndef ROBUSTNESS_MODELS_GHOST_BATCH_NORM_H_
#define ROBUSTNESS_MODELS_GHOST_BATCH_NORM_H_

#include <cstdint>
#include <ostream>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace robustness {

// Options for GhostBatchNorm2d. num_features >= 1 and virtual_batch_size >= 1 (CHECKed at
// construction; ValidateModelConfig reports a bad virtual_batch_size as Status first). eps and
// momentum are BatchNorm2d's defaults.
//
// Example (the paper's setting for a 64-channel layer):
//   GhostBatchNorm2d bn(GhostBatchNorm2dOptions(64, /*virtual_batch_size=*/64));
struct GhostBatchNorm2dOptions {
  GhostBatchNorm2dOptions(int64_t num_features, int64_t virtual_batch_size);

  TORCH_ARG(int64_t, num_features);
  TORCH_ARG(int64_t, virtual_batch_size);
  TORCH_ARG(double, eps) = 1e-5;
  TORCH_ARG(double, momentum) = 0.1;
};

// forward(input): float32 [N, num_features, H, W], any device; returns the same shape. Train
// mode: per-chunk statistics and one running-statistics update (header comment); eval mode:
// running statistics. Differentiable with respect to the input, weight and bias.
class GhostBatchNorm2dImpl : public torch::nn::Cloneable<GhostBatchNorm2dImpl> {
 public:
  explicit GhostBatchNorm2dImpl(GhostBatchNorm2dOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input);

  GhostBatchNorm2dOptions options;
  torch::Tensor weight;               // [C], trainable, starts at 1.
  torch::Tensor bias;                 // [C], trainable, starts at 0.
  torch::Tensor running_mean;         // [C] buffer, starts at 0.
  torch::Tensor running_var;          // [C] buffer, starts at 1.
  torch::Tensor num_batches_tracked;  // int64 scalar buffer: train-mode forwards so far.
};

TORCH_MODULE(GhostBatchNorm2d);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_GHOST_BATCH_NORM_H_
