#include "robustness/harness/model_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/datasets/in_memory_dataset.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// 96 scripted 1x8x8 images whose class decides which rows are bright.
std::shared_ptr<const Dataset> ToyDataset() {
  at::manual_seed(5);
  at::Tensor labels = at::randint(0, 3, {96}, at::kLong);
  at::Tensor images = at::randint(0, 60, {96, 1, 8, 8}, at::kByte);
  for (int64_t i = 0; i < 96; ++i) images[i][0][2 * labels[i].item<int64_t>()].fill_(250);
  return std::make_shared<InMemoryDataset>(images, labels, 3);
}

ModelRequest Request(int epochs) {
  ModelRequest r;
  r.name = "ResNet toy (CNN recipe)";
  r.run = ParseTextProtoOrDie<proto::ModelRun>(R"pb(
    label: "ResNet toy (CNN recipe)" family: "CNN" replica: 0 init_weights: "" paper_row: "" no_distillation {}
    model {
      num_classes: 3 in_channels: 1 image_size: 8
      normalization { mean: 0.2 std: 0.3 }
      resnet { block: BASIC stage_depths: [1] base_width: 4 stem: SMALL activation: RELU
               batch_norm {} }
    }
    training {
      batch_size: 16 label_smoothing: 0 images_per_epoch: 0 lr_reference_batch_size: 0
      accumulation_steps: 1
      optimizer { peak_lr: 0.1 weight_decay: 1e-4 no_decay_on_1d_params: false
                  sgd { momentum: 0.9 nesterov: false } }
      schedule { semantics: PROGRESS warmup_epochs: 0 warmup_start_lr: 0 per_step: false
                 cosine { min_lr: 0 cooldown_epochs: 0 } }
      augmentation { pad_crop { padding: 0 } horizontal_flip: false no_color {} no_erasing {} }
      none {} shuffle {} no_ema {} fixed_augmentation {} standard {}
    })pb");
  r.run.mutable_training()->set_epochs(epochs);
  r.train_data = ParseTextProtoOrDie<proto::DatasetConfig>(R"pb(
    idx { images_path: "toy" labels_path: "toy" num_classes: 3 } subset_size: 0 subset_seed: 0)pb");
  r.runtime = ParseTextProtoOrDie<proto::RuntimeConfig>(
      R"pb(seed: 3 num_threads: 1 data_loader_threads: 1 device: "cpu")pb");
  return r;
}

std::string Root(const std::string& name) { return ::testing::TempDir() + "/store_" + name; }

TEST(ModelStore, TrainsOnceThenReusesTheSameWeights) {
  auto store = ModelStore::Open(Root("reuse"));
  ASSERT_THAT(store, IsOk());
  auto first = store->Obtain(Request(2), ToyDataset(), {});
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE(first->reused);
  EXPECT_TRUE(fs::exists(first->dir + "/spec.pbtxt"));
  EXPECT_TRUE(fs::exists(first->dir + "/provenance.pbtxt"));
  auto log = ReadFileToString(first->dir + "/training_log.jsonl");
  ASSERT_THAT(log, IsOk());
  EXPECT_EQ(std::count(log->begin(), log->end(), '\n'), 2);
  EXPECT_THAT(*log, HasSubstr("{\"epoch\": 1, \"learning_rate\": "));

  ModelRequest relabelled = Request(2);
  relabelled.name = "another row label";
  relabelled.run.set_label("another row label");
  relabelled.run.set_paper_row("ResNet-50");
  relabelled.runtime.set_data_loader_threads(2);
  auto second = store->Obtain(relabelled, ToyDataset(), {});
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(second->reused);
  EXPECT_EQ(second->dir, first->dir);
  EXPECT_EQ(second->weights_sha256, first->weights_sha256);
  EXPECT_EQ(second->report.epochs.size(), 2u);
}

TEST(ModelStore, AnyWeightDecidingChangeIsAnotherModel) {
  const ModelRequest base = Request(1);
  auto fp = [](const ModelRequest& r) { return Fingerprint(*MakeSpec(r)); };
  ModelRequest recipe = base;
  recipe.run.mutable_training()->mutable_optimizer()->set_peak_lr(0.2);
  ModelRequest seed = base;
  seed.runtime.set_seed(4);
  ModelRequest replica = base;
  replica.run.set_replica(1);
  ModelRequest data = base;
  data.train_data.set_subset_size(48);
  ModelRequest threads = base;
  threads.runtime.set_num_threads(2);
  ModelRequest adversarial = base;
  *adversarial.run.mutable_training()->mutable_adversarial() =
      ParseTextProtoOrDie<proto::AdversarialTraining>(
          "norm: LINF epsilon { over_255: 4 } step_size { over_255: 4 } num_steps: 1 "
          "per_image_uniform {}");
  for (const ModelRequest* other : {&recipe, &seed, &replica, &data, &threads, &adversarial}) {
    EXPECT_NE(fp(*other), fp(base));
  }
  ModelRequest evaluation_only = base;
  evaluation_only.run.set_label("x");
  evaluation_only.run.set_family("y");
  evaluation_only.run.set_paper_row("DeiT-S");
  evaluation_only.runtime.set_data_loader_threads(7);
  EXPECT_EQ(fp(evaluation_only), fp(base));
  // `standard {}` is not hashed: specs written before TrainingConfig.objective existed (without
  // it) keep their fingerprint and spec text.
  ModelRequest before_objective = base;
  before_objective.run.mutable_training()->clear_standard();
  EXPECT_EQ(fp(before_objective), fp(base));
  EXPECT_EQ(CanonicalSpecText(*MakeSpec(before_objective)), CanonicalSpecText(*MakeSpec(base)));
}

TEST(ModelStore, InterruptedTrainingResumesToTheSameWeights) {
  auto straight = ModelStore::Open(Root("straight"));
  auto resumed = ModelStore::Open(Root("resumed"));
  ASSERT_THAT(straight, IsOk());
  ASSERT_THAT(resumed, IsOk());
  auto want = straight->Obtain(Request(3), ToyDataset(), {});
  ASSERT_THAT(want, IsOk());
  ObtainOptions kill;
  kill.stop_after_epochs = 1;
  EXPECT_THAT(resumed->Obtain(Request(3), ToyDataset(), kill),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stopped after epoch 1")));
  auto got = resumed->Obtain(Request(3), ToyDataset(), {});
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->reused);
  EXPECT_EQ(got->report.resumed_after_epochs, 1);
  EXPECT_EQ(got->weights_sha256, want->weights_sha256);
}

TEST(ModelStore, FolderOfAnotherFingerprintIsRefusedAndKept) {
  const std::string dir = Root("given") + "/model";
  ASSERT_THAT(ObtainModelIn(dir, Request(1), ToyDataset(), {}), IsOk());
  auto before = ReadFileToString(dir + "/checkpoint.pt");
  EXPECT_THAT(ObtainModelIn(dir, Request(2), ToyDataset(), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("holds a model of another fingerprint")));
  EXPECT_EQ(*ReadFileToString(dir + "/checkpoint.pt"), *before);
}

TEST(ModelStore, FolderInUseIsAClearError) {
  const std::string dir = Root("locked") + "/model";
  ASSERT_THAT(EnsureWritableDirectory(dir), IsOk());
  const int fd = ::open((dir + "/LOCK").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_THAT(ObtainModelIn(dir, Request(1), ToyDataset(), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is in use by another process")));
  ::close(fd);
  EXPECT_THAT(ObtainModelIn(dir, Request(1), ToyDataset(), {}), IsOk());
}

TEST(ModelStore, UnwritableRootAndMissingInitWeightsAreErrors) {
  const std::string file = Root("file");
  ASSERT_THAT(WriteFileAtomically(file, "x"), IsOk());
  auto store = ModelStore::Open(file + "/sub");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("model store root"));
  ModelRequest r = Request(1);
  r.run.set_init_weights("/nonexistent/weights.pth");
  EXPECT_THAT(MakeSpec(r), StatusIs(absl::StatusCode::kNotFound, HasSubstr("init_weights")));
}

// Distillation through the store: the teacher is a stored model, trained first when missing;
// the student's fingerprint covers the teacher's spec but not its row label.
ModelRequest DistilledRequest(int epochs) {
  ModelRequest student = Request(epochs);
  student.name = "ResNet toy (distilled)";
  student.run.set_label("ResNet toy (distilled)");
  proto::DistillationConfig* d = student.run.mutable_distillation();
  *d->mutable_stored() = Request(1).run;
  d->mutable_stored()->set_label("ResNet toy teacher");
  d->mutable_stored()->mutable_model()->mutable_resnet()->set_base_width(8);
  d->set_kind(proto::DistillationConfig::SOFT);
  d->set_alpha(0.5);
  d->set_tau(1.0);
  d->set_kl_reduction(proto::DistillationConfig::DEIT_ELEMENT_MEAN);
  return student;
}

TEST(ModelStore, DistillationObtainsTheStoredTeacherFirst) {
  auto store = ModelStore::Open(Root("distill"));
  ASSERT_THAT(store, IsOk());
  auto student = store->Obtain(DistilledRequest(2), ToyDataset(), {});
  ASSERT_THAT(student, IsOk());
  EXPECT_FALSE(student->reused);
  // The teacher is now in the store under its own fingerprint: asking for it reuses it.
  ModelRequest teacher_request = Request(1);
  teacher_request.run = DistilledRequest(2).run.distillation().stored();
  teacher_request.name = "ResNet toy teacher";
  auto teacher = store->Obtain(teacher_request, ToyDataset(), {});
  ASSERT_THAT(teacher, IsOk());
  EXPECT_TRUE(teacher->reused);
  EXPECT_NE(teacher->dir, student->dir);
  // A finished student is reused without its teacher being needed.
  auto again = store->Obtain(DistilledRequest(2), ToyDataset(), {});
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->weights_sha256, student->weights_sha256);
}

TEST(ModelStore, TheTeachersIdentityIsPartOfTheStudentsFingerprint) {
  auto fp = [](const ModelRequest& r) { return Fingerprint(*MakeSpec(r)); };
  const ModelRequest base = DistilledRequest(1);
  EXPECT_NE(fp(base), fp(Request(1)));
  ModelRequest other_teacher = base;
  other_teacher.run.mutable_distillation()->mutable_stored()->mutable_training()->set_epochs(2);
  EXPECT_NE(fp(other_teacher), fp(base));
  ModelRequest relabelled_teacher = base;
  relabelled_teacher.run.mutable_distillation()->mutable_stored()->set_label("renamed");
  EXPECT_EQ(fp(relabelled_teacher), fp(base));
  ModelRequest alpha = base;
  alpha.run.mutable_distillation()->set_alpha(0.25);
  EXPECT_NE(fp(alpha), fp(base));
}

TEST(ModelStore, DistillationBadInputIsAClearError) {
  auto store = ModelStore::Open(Root("distill_bad"));
  ASSERT_THAT(store, IsOk());
  ModelRequest classes = DistilledRequest(1);
  classes.run.mutable_distillation()->mutable_stored()->mutable_model()->set_num_classes(4);
  EXPECT_THAT(store->Obtain(classes, ToyDataset(), {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the teacher has 4 classes, the student 3")));
  ModelRequest tau = DistilledRequest(1);
  tau.run.mutable_distillation()->set_tau(0);
  EXPECT_THAT(store->Obtain(tau, ToyDataset(), {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("distillation.tau")));
  ModelRequest imported = DistilledRequest(1);
  proto::DistillationConfig* d = imported.run.mutable_distillation();
  *d->mutable_imported()->mutable_model() = Request(1).run.model();
  d->mutable_imported()->set_weights(Root("distill_bad") + "/no_such_teacher.pt");
  EXPECT_THAT(store->Obtain(imported, ToyDataset(), {}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("distillation.imported.weights")));
  // Outside a store (tools/train --output_dir) a stored teacher needs a store root.
  EXPECT_THAT(ObtainModelIn(Root("distill_bad") + "/alone", DistilledRequest(1), ToyDataset(), {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a model store")));
}

}  // namespace
}  // namespace robustness
