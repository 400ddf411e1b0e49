// Evaluation sharded over 2 processes on loopback (c10d / Gloo; robustness/distributed): this
// binary starts copies of itself as the ranks, as torchrun would, and compares every per-image
// outcome and count with one process.

#include <unistd.h>

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
#include "robustness/evaluation/corruption_eval.h"
#include "robustness/evaluation/patch_attack_eval.h"
#include "robustness/evaluation/robust_accuracy.h"
#include "robustness/textures/constant_dictionary.h"
#include "robustness/textures/texture_dictionary.h"

namespace robustness {
namespace {

// A 3-class dictionary of 2 textures per class (this process's own folder): class c is c / 4
// grey, so classes 0 and 1 fool DarkCornerClassifier and class 2 (0.5, not dark) never does.
TextureDictionary GreyDictionary() {
  const std::string dir = ::testing::TempDir() + "/dict_" + std::to_string(getpid());
  CHECK(WriteConstantTextureDictionary(dir, {0.0f, 0.25f, 0.5f}, 2, 16).ok());
  absl::StatusOr<TextureDictionary> dictionary = TextureDictionary::Open(dir, 3, 1, 16);
  CHECK(dictionary.ok()) << dictionary.status();
  return *std::move(dictionary);
}

// TPA on 11 white 16 px images (label 0; images 3 and 8 labelled 2: clean errors), textures of a
// random class per image: the records and summaries as tensors.
std::vector<torch::Tensor> EvaluateTpa(std::shared_ptr<World> world) {
  torch::Tensor labels = torch::zeros({11}, torch::kLong);
  labels[3] = 2;
  labels[8] = 2;
  const InMemoryDataset data(torch::full({11, 1, 16, 16}, 255, torch::kUInt8), labels, 3);
  const auto config = ParseTextProtoOrDie<proto::PatchAttackEvalConfig>(R"pb(
    attack { num_patches: 2 area_fraction: 0.1 area_mode: TOTAL goal: NON_TARGETED
             texture_class: -1 queries_per_step: 20 max_steps: 5 min_steps: 3
             policy_learning_rate: 0.03 curvature_bound: 1e-4 hidden_size: 30
             query_budget: 200 eval_batch_size: 20 }
    num_images: 11 example_images: 2)pb");
  attacks_internal::DarkCornerClassifier victim;
  PatchAttackEvalOptions options;
  options.seed = 3;
  options.world = world;
  const TextureDictionary dictionary = GreyDictionary();
  absl::StatusOr<PatchAttackReport> r =
      EvaluatePatchAttack(victim, data, ImageTransform(), dictionary, config, options);
  CHECK(r.ok()) << r.status();
  std::vector<int64_t> records;
  std::vector<double> areas;
  for (const PatchAttackImage& im : r->images) {
    records.insert(records.end(), {im.index, im.label, im.clean_prediction, im.final_prediction,
                                   im.attacked, im.success, im.texture_class, im.target,
                                   im.queries, im.patches, im.side,
                                   static_cast<int64_t>(im.success_after.size())});
    for (int k = 0; k < 2; ++k) {
      records.push_back(k < static_cast<int>(im.success_after.size()) && im.success_after[k]);
    }
    areas.push_back(im.area);
  }
  std::vector<double> summary = {r->clean_accuracy, r->tpa_accuracy,     r->success_rate,
                                 r->mean_queries,   r->mean_queries_all, r->mean_patches,
                                 r->mean_area,      r->max_area,
                                 static_cast<double>(r->patch_side),
                                 static_cast<double>(r->num_images)};
  summary.insert(summary.end(), r->accuracy_after.begin(), r->accuracy_after.end());
  std::vector<torch::Tensor> out = {torch::tensor(records, torch::kLong),
                                    torch::tensor(areas, torch::kDouble),
                                    torch::tensor(summary, torch::kDouble)};
  for (const auto& [clean, attacked] : r->examples) {
    out.push_back(clean);
    out.push_back(attacked);
  }
  return out;
}

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
  // ImageNet-C style, corrupted on the fly (image i's own stream), 5 batches of 7.
  const auto corruption = ParseTextProtoOrDie<proto::CorruptionEvalConfig>(R"pb(
    corruption { severity_table: CIFAR10_C }
    on_the_fly { seed: 9 }
    corruptions: "gaussian_noise" corruptions: "contrast" corruptions: "impulse_noise"
    severities: 1 severities: 5 num_images: 0 batch_size: 7 alexnet_normalized: false)pb");
  CorruptionEvalOptions corruption_options;
  corruption_options.world = world;
  absl::StatusOr<CorruptionReport> c =
      EvaluateCorruptions(model, data, ImageTransform(), corruption, corruption_options);
  CHECK(c.ok()) << c.status();
  std::vector<double> errors = {c->clean_error, c->mce_all, static_cast<double>(c->num_images)};
  for (const CorruptionErrors& e : c->corruptions) {
    errors.insert(errors.end(), e.errors.begin(), e.errors.end());
  }
  out.push_back(torch::tensor(errors, torch::kDouble));
  for (const torch::Tensor& t : EvaluateTpa(world)) out.push_back(t);
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
  // The TPA part (after the corruption errors): 11 records, 2 clean errors, 2 examples.
  const size_t tpa = one.size() - 7;
  const torch::Tensor records = one[tpa].view({11, -1});
  EXPECT_EQ(records.select(1, 0).equal(torch::arange(11)), true);   // image order
  EXPECT_EQ(records.select(1, 4).sum().item<int64_t>(), 9);         // attacked
  EXPECT_GT(records.select(1, 5).sum().item<int64_t>(), 0);         // some fooled
  EXPECT_LT(records.select(1, 5).sum().item<int64_t>(), 9);         // class 2 textures fail
}

}  // namespace
}  // namespace robustness

int main(int argc, char** argv) {
  if (std::getenv("DE_TEST_WORKER") != nullptr) return robustness::RunWorker();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
