// K-means for the texture dictionary (research/patch_attack.md section 1: scikit-learn's KMeans
// with its 2020 defaults clusters each class's flattened Gram matrices into K groups).
//
// What is kept from sklearn: greedy k-means++ seeding with 2 + floor(ln K) candidates per centre,
// `restarts` independent starts with the lowest inertia kept, Lloyd iterations up to
// max_iterations, and its stopping rule (squared centre shift <= tolerance x the mean
// per-feature variance of the data). Deviations, written down: Lloyd's algorithm rather than
// Elkan's (the same fixed points; sklearn 1.1+ defaults to Lloyd too), a LibTorch generator in
// place of NumPy's RandomState (so centres equal sklearn's only up to the random draws, sheet
// pitfall 11), and an empty cluster takes the point farthest from its centre (sklearn relocates
// to far points as well).
#ifndef ROBUSTNESS_TEXTURES_KMEANS_H_
#define ROBUSTNESS_TEXTURES_KMEANS_H_

#include <cstdint>

#include <torch/types.h>

#include "robustness/proto/patch_attack.pb.h"

namespace robustness {

struct KMeansResult {
  torch::Tensor centers;     // float32 [K, D]
  torch::Tensor assignment;  // int64 [N], in [0, K)
  double inertia = 0;        // sum of squared distances to the assigned centres
  int iterations = 0;        // of the start that was kept
};

// points: float32 [N, D] with N >= k >= 1 (CHECKed). config: restarts, max_iterations >= 1,
// tolerance >= 0. Deterministic given `gen`'s state (CPU, fixed thread count).
KMeansResult KMeans(const torch::Tensor& points, int64_t k, const proto::KMeansConfig& config,
                    torch::Generator& gen);

}  // namespace robustness

#endif  // ROBUSTNESS_TEXTURES_KMEANS_H_
