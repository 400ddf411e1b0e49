// tools/evaluate as a user runs it (the real binaries, in child processes): train a tiny model
// with tools/train, evaluate its checkpoint and its exported torch.save file, and the errors.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"

namespace robustness {
namespace {

std::string g_train;
std::string g_evaluate;
constexpr char kTrainConfig[] = "tools/train/testdata/tiny_resnet.pbtxt";
constexpr char kEvalConfig[] = "tools/evaluate/testdata/tiny_eval.pbtxt";

std::string Dir(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// Runs `binary` with `args`, stdout and stderr to `log`; returns the exit status (-1 on a signal).
int RunBinary(const std::string& binary, std::vector<std::string> args, const std::string& log) {
  args.insert(args.begin(), binary);
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    FILE* g = std::freopen(log.c_str(), "a", stdout);
    (void)f;
    (void)g;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The tiny model, trained once for every test.
class EvaluateTool : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(RunBinary(g_train,
                  {std::string("--config=") + kTrainConfig, "--output_dir=" + Dir("model"),
                   "--export=" + Dir("model.pth")},
                  Dir("train.log")),
              0)
        << *ReadFileToString(Dir("train.log"));
  }
  static std::string Checkpoint() {
    return "weights { checkpoint: \"" + Dir("model") + "/checkpoint.pt\" }";
  }
};

std::string Field(const std::string& json, const std::string& name) {
  const size_t at = json.find("\"" + name + "\": ");
  if (at == std::string::npos) return "(no " + name + ")";
  const size_t begin = at + name.size() + 4;
  return json.substr(begin, json.find_first_of(",\n", begin) - begin);
}

TEST_F(EvaluateTool, CheckpointAndExportedFileGiveTheSameNumbers) {
  ASSERT_EQ(RunBinary(g_evaluate,
                {std::string("--config=") + kEvalConfig, "--set=" + Checkpoint(),
                 "--output_dir=" + Dir("from_checkpoint")},
                Dir("a.log")),
            0)
      << *ReadFileToString(Dir("a.log"));
  ASSERT_EQ(RunBinary(g_evaluate,
                {std::string("--config=") + kEvalConfig,
                 "--set=weights { torch_save { path: \"" + Dir("model.pth") + "\" key: \"\" } }",
                 "--output_dir=" + Dir("from_file")},
                Dir("b.log")),
            0)
      << *ReadFileToString(Dir("b.log"));
  const std::string a = *ReadFileToString(Dir("from_checkpoint/results.json"));
  const std::string b = *ReadFileToString(Dir("from_file/results.json"));
  EXPECT_EQ(Field(a, "num_images"), "\"64\"");
  for (const char* name : {"clean_accuracy", "robust_accuracy", "accuracy"}) {
    EXPECT_EQ(Field(a, name), Field(b, name)) << name;
  }
  const double clean = std::stod(Field(a, "clean_accuracy"));
  const double robust = std::stod(Field(a, "robust_accuracy"));
  EXPECT_GT(clean, 30.0);
  EXPECT_LE(robust, clean);
  const std::string md = *ReadFileToString(Dir("from_checkpoint/results.md"));
  EXPECT_TRUE(absl::StrContains(md, "| 4/255 |")) << md;
  EXPECT_TRUE(absl::StrContains(md, "APGD-T")) << md;
}

TEST_F(EvaluateTool, AutoAttackModeWritesStagesPerImageOutcomesAndAdversarialImages) {
  const std::string set =
      Checkpoint() +
      " auto_attack { norm: LINF radii { over_255: 4 } custom { "
      "stages { name: \"APGD-CE\" apgd { norm: LINF loss: CE num_iterations: 10 restarts: 1 "
      "num_target_classes: 0 rho: 0.75 eot_iterations: 1 } } "
      "stages { name: \"Square\" square { norm: LINF num_queries: 50 p_init: 0.8 restarts: 1 } } "
      "} num_images: 40 batch_size: 16 }";
  ASSERT_EQ(RunBinary(g_evaluate,
                      {std::string("--config=") + kEvalConfig, "--set=" + set,
                       "--output_dir=" + Dir("aa"), "--save_adversarial"},
                      Dir("aa.log")),
            0)
      << *ReadFileToString(Dir("aa.log"));
  const std::string md = *ReadFileToString(Dir("aa/results.md"));
  EXPECT_TRUE(absl::StrContains(md, "after APGD-CE | after Square")) << md;
  const std::string csv = *ReadFileToString(Dir("aa/per_image.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 41);
  EXPECT_TRUE(absl::StartsWith(csv, "index,label,clean_prediction,fooled_by eps=4/255,"));
  // Python reads the adversarial images (Debian's python3-torch, as the acceptance check does).
  const std::string check =
      "import torch, sys; d = torch.load(sys.argv[1]); x = d['x_adv eps=4/255']; "
      "assert tuple(x.shape) == (40, 1, 28, 28), x.shape; "
      "assert d['labels'].shape == (40,); assert 0 <= float(x.min()) and float(x.max()) <= 1";
  EXPECT_EQ(RunBinary("/usr/bin/python3", {"-c", check, Dir("aa/adversarial.pth")},
                      Dir("py.log")),
            0)
      << *ReadFileToString(Dir("py.log"));
}

TEST_F(EvaluateTool, ImageNetCModeWritesErrorsPerCorruptionAndAHeatMap) {
  const std::string set = Checkpoint() +
      " corruption_eval { corruption { severity_table: CIFAR10_C no_frost {} }"
      " on_the_fly { seed: 1 } corruptions: [\"gaussian_noise\", \"saturate\"]"
      " severities: [1, 5] num_images: 32 batch_size: 16 alexnet_normalized: false }";
  ASSERT_EQ(RunBinary(g_evaluate,
                {std::string("--config=") + kEvalConfig, "--set=" + set,
                 "--output_dir=" + Dir("imagenet_c")},
                Dir("c.log")),
            0)
      << *ReadFileToString(Dir("c.log"));
  const std::string json = *ReadFileToString(Dir("imagenet_c") + "/results.json");
  EXPECT_NE(json.find("\"corruption\": \"saturate\""), std::string::npos) << json;
  EXPECT_NE(Field(json, "mce"), "(no mce)");
  EXPECT_TRUE(std::filesystem::exists(Dir("imagenet_c") + "/imagenet_c_heatmap.svg"));
  EXPECT_NE(ReadFileToString(Dir("imagenet_c") + "/results.md")->find("| gaussian_noise |"),
            std::string::npos);
  // A misspelt corruption: exit 1 and the field named.
  EXPECT_EQ(RunBinary(g_evaluate,
                {std::string("--config=") + kEvalConfig,
                 "--set=" + std::string(set).replace(set.find("gaussian_noise"), 14, "fogg"),
                 "--output_dir=" + Dir("imagenet_c_bad")},
                Dir("c_bad.log")),
            1);
  EXPECT_TRUE(absl::StrContains(*ReadFileToString(Dir("c_bad.log")), "corruptions[0]"))
      << *ReadFileToString(Dir("c_bad.log"));
}

TEST_F(EvaluateTool, BadInputIsAClearError) {
  struct Case {
    std::string set;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"model { resnet { base_width: 16 } } " + Checkpoint(), "does not fit the model"},
      {"weights { checkpoint: \"/no/such/checkpoint.pt\" }", "/no/such/checkpoint.pt"},
      {Checkpoint() + " evaluation { radii { pixels: 2 } }", "must be in (0, 1] pixel units"},
      {Checkpoint() +
           " evaluation { attacks { name: \"bad\" apgd { norm: LINF loss: CE num_iterations: 0 "
           "restarts: 1 num_target_classes: 0 rho: 0.75 eot_iterations: 1 } } }",
       "apgd.num_iterations: must be >= 1, got 0"},
      {Checkpoint() + " model { num_classes: 7 }", "does not fit the model"},
      // An unknown version name: the parse error names it.
      {Checkpoint() + " auto_attack { norm: LINF radii { over_255: 4 } standrad {} "
                      "num_images: 8 batch_size: 8 }",
       "standrad"},
      {Checkpoint() + " auto_attack { norm: LINF radii { over_255: 4 } custom { stages { name: "
                      "\"X\" fab { norm: L2 targeted: true num_iterations: 5 restarts: 1 "
                      "num_target_classes: 9 alpha_max: 0.1 eta: 1.05 beta: 0.9 } } } "
                      "num_images: 8 batch_size: 8 }",
       "auto_attack.custom.stages[0]: its norm L2 differs from auto_attack.norm LINF"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string log = Dir(absl::StrCat("bad", i, ".log"));
    const int status = RunBinary(g_evaluate,
                           {std::string("--config=") + kEvalConfig, "--set=" + cases[i].set,
                            "--output_dir=" + Dir(absl::StrCat("bad", i))},
                           log);
    EXPECT_NE(status, 0) << i;
    const std::string text = *ReadFileToString(log);
    EXPECT_TRUE(absl::StrContains(text, cases[i].message)) << i << ": " << text;
    EXPECT_FALSE(std::filesystem::exists(Dir(absl::StrCat("bad", i, "/results.json")))) << i;
  }
}

}  // namespace
}  // namespace robustness

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--train_binary=", 0) == 0) robustness::g_train = arg.substr(15);
    if (arg.rfind("--evaluate_binary=", 0) == 0) robustness::g_evaluate = arg.substr(18);
  }
  if (robustness::g_train.empty() || robustness::g_evaluate.empty()) {
    std::fprintf(stderr, "usage: evaluate_test --train_binary=PATH --evaluate_binary=PATH\n");
    return 2;
  }
  return RUN_ALL_TESTS();
}
