#include "robustness/datasets/repeated_augmentation_sampler.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "glog/logging.h"

namespace robustness {

std::vector<int64_t> RepeatedAugmentationOrder(int64_t n, int64_t epoch, int repeats,
                                               int length_multiple, int replicas, int rank) {
  CHECK_GE(n, 1);
  CHECK_GE(repeats, 1);
  CHECK_GE(length_multiple, 1);
  CHECK_GE(rank, 0);
  CHECK_LT(rank, replicas);
  // torch.Generator().manual_seed(epoch); torch.randperm(n, generator=g).
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(epoch));
  const at::Tensor perm = at::randperm(n, generator, at::kLong);
  const int64_t* p = perm.data_ptr<int64_t>();
  std::vector<int64_t> repeated;
  repeated.reserve(static_cast<size_t>(n * repeats));
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < repeats; ++k) repeated.push_back(p[i]);
  }
  const int64_t per_rank = (static_cast<int64_t>(repeated.size()) + replicas - 1) / replicas;
  const int64_t total = per_rank * replicas;
  for (int64_t i = 0; static_cast<int64_t>(repeated.size()) < total; ++i) {
    repeated.push_back(repeated[i]);
  }
  const int64_t keep = (n / length_multiple) * length_multiple / replicas;
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(keep));
  for (int64_t pos = rank; pos < total && static_cast<int64_t>(out.size()) < keep;
       pos += replicas) {
    out.push_back(repeated[pos]);
  }
  return out;
}

}  // namespace robustness
