// The paper's OOD column "ImageNet-C" (PAPER.md 3.10; claim 5 of section 6: transformers are more
// robust out of distribution) for the Table 1 pair: the CNN with the CNN recipe and the
// transformer with the DeiT recipe, from the model store (Table 1's models when its rows are the
// same), evaluated on the configured corruptions and severities (robustness/evaluation/
// corruption_eval.h). On the embedded default this is Fashion-MNIST-C: the 10k test images
// corrupted on the fly at CIFAR-10-C's severities.
//
// Output folder (atomically): resolved_config.pbtxt, provenance.pbtxt (first); results.json,
// results.md (our numbers beside the paper's, the claim checked), imagenet_c_heatmap_<row>.svg.
#ifndef EXPERIMENTS_TABLE1_IMAGENET_C_TABLE1_IMAGENET_C_H_
#define EXPERIMENTS_TABLE1_IMAGENET_C_TABLE1_IMAGENET_C_H_

#include <string>

#include "absl/status/statusor.h"
#include "experiments/table1_imagenet_c/imagenet_c_config.pb.h"
#include "experiments/table1_imagenet_c/imagenet_c_result.pb.h"
#include "robustness/config/composed_config.h"
#include "robustness/harness/experiment.h"

namespace robustness {

// Every block in range; no tensor work. Errors name file:line where known.
absl::Status ValidateImageNetCConfig(const experiments::ImageNetCConfig& config,
                                     const std::string& source, const ConfigOrigins& origins);

absl::StatusOr<experiments::ImageNetCResult> RunImageNetC(const std::string& config_path,
                                                          const std::string& output_dir,
                                                          const HarnessOptions& options = {});

std::string RenderImageNetCMarkdown(const experiments::ImageNetCResult& result);

}  // namespace robustness

#endif  // EXPERIMENTS_TABLE1_IMAGENET_C_TABLE1_IMAGENET_C_H_
