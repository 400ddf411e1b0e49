#include "robustness/attacks/internal/target_selection.h"

#include <string>

#include <torch/types.h>
#include <torch/utils.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace robustness {
namespace attacks_internal {

bool IsTargeted(proto::TargetMode mode) {
  return mode == proto::TARGET_RANDOM_OTHER || mode == proto::TARGET_LEAST_LIKELY;
}

absl::Status ValidateTargetMode(proto::TargetMode mode, absl::string_view field) {
  if (mode == proto::UNTARGETED || IsTargeted(mode)) return absl::OkStatus();
  const std::string value = proto::TargetMode_IsValid(mode) ? proto::TargetMode_Name(mode)
                                                             : absl::StrCat(static_cast<int>(mode));
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": must be UNTARGETED, TARGET_RANDOM_OTHER or TARGET_LEAST_LIKELY, got ", value));
}

torch::Tensor SelectTargets(proto::TargetMode mode, ImageClassifierImpl& model,
                            const torch::Tensor& images, const torch::Tensor& labels,
                            torch::Generator& gen) {
  CHECK(mode == proto::UNTARGETED || IsTargeted(mode))
      << "SelectTargets: unsupported target mode " << proto::TargetMode_Name(mode);
  if (mode == proto::UNTARGETED) return labels;
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = model.forward(images);
  }
  const int64_t num_classes = logits.size(1);
  CHECK_GE(num_classes, 2) << "a targeted attack needs at least two classes";
  if (mode == proto::TARGET_LEAST_LIKELY) return logits.argmin(/*dim=*/1);
  // Uniform over the other classes: draw from K - 1 values and skip over the label.
  torch::Tensor r = torch::randint(num_classes - 1, {labels.size(0)}, gen, labels.options());
  return r + r.ge(labels).to(torch::kLong);
}

}  // namespace attacks_internal
}  // namespace robustness
