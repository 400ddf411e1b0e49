#include "robustness/attacks/internal/still_robust_loop.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

namespace robustness {
namespace attacks_internal {

void RunOnStillRobust(
    const torch::Tensor& clean_logits, bool targeted, int num_target_classes, int restarts,
    torch::Tensor& robust,
    const std::function<void(const torch::Tensor& index, const torch::Tensor& targets,
                             int restart)>& run) {
  if (!targeted) {
    for (int restart = 0; restart < restarts; ++restart) {
      const torch::Tensor index = robust.nonzero().view(-1);
      if (index.numel() == 0) return;
      run(index, torch::Tensor(), restart);
    }
    return;
  }
  const int64_t num_classes = clean_logits.size(1);
  const int64_t last_rank = std::min<int64_t>(num_target_classes + 1, num_classes);
  for (int64_t rank = 2; rank <= last_rank; ++rank) {
    for (int restart = 0; restart < restarts; ++restart) {
      const torch::Tensor index = robust.nonzero().view(-1);
      if (index.numel() == 0) return;
      const torch::Tensor order = std::get<1>(clean_logits.index_select(0, index).sort(1));
      run(index, order.select(1, num_classes - rank).contiguous(), restart);
    }
  }
}

}  // namespace attacks_internal
}  // namespace robustness
