// Evaluation sharded over 2 processes on loopback (c10d / Gloo; robustness/distributed): this
// binary starts copies of itself as the ranks, as torchrun would, and compares every per-image
// outcome and count with one process.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/serialize.h>

#include "glog/logging.h"
#include "gtest/gtest.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/datasets/in_memory_dataset.h"
#include "robustness/distributed/loopback_ranks.h"
#include "robustness/distributed/world.h"
#include "robustness/evaluation/auto_attack_eval.h"
#include "robustness/evaluation/robust_accuracy.h"

namespace robustness {
namespace {

// Everything both evaluations report, as tensors: per-image outcomes and counts.
std::vector<torch::Tensor> Evaluate(std::shared_ptr<World> world) {
  at::set_num_threads(1);
  torch::manual_seed(1);
  attacks_internal::SmallConvNet model(1, 8, 4, 3);
  model.eval();
  torch::manual_seed(5);
  const torch::Tensor images = torch::randint(0, 256, {30, 1, 8, 8}, torch::kByte);
  torch::Tensor labels;
  {
    torch::NoGradGuard no_grad;
    labels = model.forward(images.to(torch::kFloat) / 255.0).argmax(1);
  }
  labels.slice(0, 0, 5).fill_(0);  // a few clean errors
  auto data = std::make_shared<InMemoryDataset>(images, labels, 4);
  // 30 images in batches of 7: 5 batches, rank 0 gets 0, 2, 4 (the short one), rank 1 gets 1, 3.
  const auto aa = ParseTextProtoOrDie<proto::AutoAttackEvalConfig>(R"pb(
    norm: LINF radii { over_255: 8 } radii { over_255: 2 } num_images: 0 batch_size: 7
    custom {
      stages { name: "APGD-CE"
               apgd { norm: LINF loss: CE num_iterations: 8 restarts: 1 num_target_classes: 0
                      rho: 0.75 eot_iterations: 1 } }
      stages { name: "Square" square { norm: LINF num_queries: 30 p_init: 0.8 restarts: 1 } }
    })pb");
  const auto pgd = ParseTextProtoOrDie<proto::RobustnessEvalConfig>(R"pb(
    radii { over_255: 8 } radii { over_255: 4 }
    attacks { name: "PGD-5" pgd { norm: LINF num_steps: 5 step_relative_to_epsilon: 0.25
                                  random_start: true restarts: 1 target_mode: UNTARGETED } }
    num_images: 0 batch_size: 7)pb");
  EvalOptions options{"dp", 5, 1, torch::kCPU, world};
  absl::StatusOr<AutoAttackEvalReport> a =
      EvaluateAutoAttack(model, data, ImageTransform(), aa, options, true);
  CHECK(a.ok()) << a.status();
  absl::StatusOr<RobustnessReport> r = EvaluateRobustness(model, data, ImageTransform(), pgd,
                                                          options);
  CHECK(r.ok()) << r.status();
  std::vector<torch::Tensor> out = {a->labels, a->clean_prediction,
                                    torch::tensor({a->clean_correct}, torch::kLong)};
  for (const AutoAttackRadiusResult& radius : a->radii) {
    out.push_back(radius.fooled_by);
    out.push_back(radius.final_prediction);
    out.push_back(radius.x_adv);
    std::vector<int64_t> counts = {radius.robust};
    for (const AutoAttackStageTotals& s : radius.stages) {
      counts.insert(counts.end(), {s.attacked, s.fooled, s.robust_after});
    }
    out.push_back(torch::tensor(counts, torch::kLong));
  }
  std::vector<double> accuracies = {r->clean_accuracy};
  for (const RadiusResult& radius : r->radii) {
    accuracies.push_back(radius.robust_accuracy);
    for (const AttackAccuracy& per : radius.per_attack) accuracies.push_back(per.accuracy);
  }
  out.push_back(torch::tensor(accuracies, torch::kDouble));
  return out;
}

int RunWorker() {
  absl::StatusOr<std::shared_ptr<World>> world = CurrentWorld();
  if (!world.ok()) return 3;
  const std::vector<torch::Tensor> out = Evaluate(*world);
  if ((*world)->is_main()) torch::save(out, std::string(std::getenv("DE_TEST_DIR")) + "/out.pt");
  return 0;
}

TEST(DistributedEvaluation, TwoProcessesGiveEveryImageTheSingleProcessOutcome) {
  const std::string dir = ::testing::TempDir() + "/distributed_eval";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_EQ(RunLoopbackRanks(2, "DE_TEST_WORKER", {"DE_TEST_DIR=" + dir}),
            std::vector<int>({0, 0}));
  std::vector<torch::Tensor> two;
  torch::load(two, dir + "/out.pt");
  const std::vector<torch::Tensor> one = Evaluate(World::Single());
  ASSERT_EQ(two.size(), one.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(torch::equal(two[i], one[i])) << "tensor " << i << ": " << two[i] << one[i];
  }
  EXPECT_EQ(one[0].size(0), 30);
}

}  // namespace
}  // namespace robustness

int main(int argc, char** argv) {
  if (std::getenv("DE_TEST_WORKER") != nullptr) return robustness::RunWorker();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
