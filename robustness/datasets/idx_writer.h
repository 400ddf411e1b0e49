// Writes IDX files (the MNIST / Fashion-MNIST format idx_reader.h reads), gzip-compressed, for
// corrupted copies of IDX data sets (Fashion-MNIST-C, tools/corrupt).
#ifndef ROBUSTNESS_DATASETS_IDX_WRITER_H_
#define ROBUSTNESS_DATASETS_IDX_WRITER_H_

#include <string>

#include <torch/types.h>

#include "absl/status/status.h"

namespace robustness {

// `images`: uint8 [N, 1, H, W] or [N, H, W] (CHECKed) -> an IDX3 file (magic 0x00000803), gzip,
// written atomically (temp + rename). Errors name `path`.
absl::Status WriteIdxImages(const std::string& path, const torch::Tensor& images);

// `labels`: integer [N] with values in [0, 255] (CHECKed) -> an IDX1 file (magic 0x00000801).
absl::Status WriteIdxLabels(const std::string& path, const torch::Tensor& labels);

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_IDX_WRITER_H_
