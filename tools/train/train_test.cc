// tools/train as a user runs it (the real binary, in a child process).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/kernel_isa.h"

namespace robustness {
namespace {

std::string g_binary;
constexpr char kConfig[] = "tools/train/testdata/tiny_resnet.pbtxt";

std::string Dir(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// Starts tools/train with `args`, stderr to `log`. Returns the pid.
pid_t Start(std::vector<std::string> args, const std::string& log) {
  args.insert(args.begin(), g_binary);
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(g_binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

std::string WeightsSha(const std::string& dir) {
  auto json = ReadFileToString(dir + "/train_result.json");
  if (!json.ok()) return "no train_result.json in " + dir;
  const size_t at = json->find("\"weights_sha256\": \"");
  return at == std::string::npos ? "" : json->substr(at + 19, 64);
}

int Lines(const std::string& path) {
  auto text = ReadFileToString(path);
  return text.ok() ? static_cast<int>(std::count(text->begin(), text->end(), '\n')) : 0;
}

TEST(TrainTool, SigkillMidEpochThenResumeGivesBitwiseTheSameWeights) {
  const int straight = Wait(Start({std::string("--config=") + kConfig,
                                   "--output_dir=" + Dir("straight")},
                                  Dir("straight.log")));
  ASSERT_TRUE(WIFEXITED(straight) && WEXITSTATUS(straight) == 0) << *ReadFileToString(Dir("straight.log"));
  const std::string want = WeightsSha(Dir("straight"));
  // On a CPU with AVX2, OpenBLAS never runs its SSE3 fallback kernels in our binaries
  // (robustness/base/kernel_isa.h, ApplyOpenBlasCoreFallbackFix).
  const std::string provenance = *ReadFileToString(Dir("straight") + "/provenance.pbtxt");
  if (CpuSupportsPortableKernels()) {
    EXPECT_FALSE(absl::StrContains(provenance, "openblas=Prescott")) << provenance;
  }
  ASSERT_EQ(want.size(), 64u) << want;

  const std::vector<std::string> args = {std::string("--config=") + kConfig,
                                         "--output_dir=" + Dir("killed")};
  const pid_t pid = Start(args, Dir("killed.log"));
  // Kill in the second epoch: right after the first epoch's log line lands.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (Lines(Dir("killed") + "/training_log.jsonl") < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  const int killed = Wait(pid);
  ASSERT_TRUE(WIFSIGNALED(killed)) << "the run finished before it could be killed";
  EXPECT_LT(Lines(Dir("killed") + "/training_log.jsonl"), 3);
  EXPECT_FALSE(std::filesystem::exists(Dir("killed") + "/train_result.json"));

  const int resumed = Wait(Start(args, Dir("resumed.log")));
  const std::string log = *ReadFileToString(Dir("resumed.log"));
  ASSERT_TRUE(WIFEXITED(resumed) && WEXITSTATUS(resumed) == 0) << log;
  EXPECT_TRUE(absl::StrContains(log, "resuming from")) << log;
  EXPECT_EQ(WeightsSha(Dir("killed")), want);
  EXPECT_EQ(Lines(Dir("killed") + "/training_log.jsonl"), 3);

  // A third run trains nothing.
  ASSERT_EQ(Wait(Start(args, Dir("again.log"))), 0);
  EXPECT_TRUE(absl::StrContains(*ReadFileToString(Dir("again.log")), "[store] reusing"));
}

TEST(TrainTool, BadInputIsAClearErrorAndWritesNothing) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "--config is required"},
      {{"--config=/no/such.pbtxt"}, "/no/such.pbtxt"},
      {{std::string("--config=") + kConfig, "--set=run { training { epochz: 1 } }"},
       "--set:2:24: Message type \"robustness.proto.TrainingConfig\" has no field named \"epochz\""},
      {{std::string("--config=") + kConfig, "--set=run { training { epochs: 0 } }"},
       "--set:2: run.training.epochs: must be in [1, 10000], got 0"},
      {{std::string("--config=") + kConfig,
        "--set=run { training { include: \"robustness/recipes/none.pbtxt\" } }"},
       "include \"robustness/recipes/none.pbtxt\" not found"},
      {{std::string("--config=") + kConfig, "--output_dir=" + Dir("straight"),
        "--set=run { replica: 3 }"},
       "holds a model of another fingerprint"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<std::string> args = cases[i].args;
    if (i < 5) args.push_back("--output_dir=" + Dir(absl::StrCat("bad", i)));
    const std::string log = Dir(absl::StrCat("bad", i, ".log"));
    const int status = Wait(Start(args, log));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << i;
    const std::string text = *ReadFileToString(log);
    EXPECT_TRUE(absl::StrContains(text, cases[i].message)) << i << ": " << text;
    if (i < 5) {
      EXPECT_FALSE(std::filesystem::exists(Dir(absl::StrCat("bad", i)))) << i;
    }
  }
}

}  // namespace
}  // namespace robustness

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--train_binary=", 0) == 0) robustness::g_binary = arg.substr(15);
  }
  if (robustness::g_binary.empty()) {
    std::fprintf(stderr, "usage: train_test --train_binary=PATH\n");
    return 2;
  }
  return RUN_ALL_TESTS();
}
