#include "robustness/weights/state_dict_io.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Written by testdata/make_fixtures.py --set=interop (Python's torch.save).
std::string Fixture(const std::string& name) { return "robustness/weights/testdata/" + name; }

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

std::vector<std::string> Keys(const StateDict& state_dict) { return state_dict.keys(); }

const std::vector<std::string> kTinyKeys = {"conv.weight",
                                            "conv.bias",
                                            "bn.weight",
                                            "bn.bias",
                                            "bn.running_mean",
                                            "bn.running_var",
                                            "bn.num_batches_tracked",
                                            "fc.weight",
                                            "fc.bias"};

void ExpectSameTensors(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(Keys(a), Keys(b));
  for (const auto& item : a) {
    EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  }
}

TEST(ReadStateDictFile, ReadsModelStateDictInOrder) {
  absl::StatusOr<StateDictFile> file = ReadStateDictFile(Fixture("tiny_plain.pth"));
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(Keys(file->tensors), kTinyKeys);
  EXPECT_EQ(file->tensors["conv.weight"].sizes(), torch::IntArrayRef({4, 3, 3, 3}));
  EXPECT_EQ(file->tensors["conv.weight"].dtype(), torch::kFloat32);
  // randomize_ sets BN's counter to 1000 + the module's index (bn is module 2).
  EXPECT_EQ(file->tensors["bn.num_batches_tracked"].dtype(), torch::kInt64);
  EXPECT_EQ(file->tensors["bn.num_batches_tracked"].item<int64_t>(), 1002);
  EXPECT_EQ(file->Describe(), "bare state dict");
}

TEST(ReadStateDictFile, ReadsPickleProtocol4) {
  absl::StatusOr<StateDictFile> plain = ReadStateDictFile(Fixture("tiny_plain.pth"));
  absl::StatusOr<StateDictFile> protocol4 = ReadStateDictFile(Fixture("tiny_protocol4.pth"));
  ASSERT_THAT(plain, IsOk());
  ASSERT_THAT(protocol4, IsOk());
  ExpectSameTensors(protocol4->tensors, plain->tensors);
}

TEST(ReadStateDictFile, StripsDistributedDataParallelPrefix) {
  absl::StatusOr<StateDictFile> plain = ReadStateDictFile(Fixture("tiny_plain.pth"));
  absl::StatusOr<StateDictFile> ddp = ReadStateDictFile(Fixture("tiny_ddp.pth"));
  ASSERT_THAT(ddp, IsOk());
  ExpectSameTensors(ddp->tensors, plain->tensors);
  EXPECT_TRUE(ddp->stripped_module_prefix);
  EXPECT_EQ(ddp->Describe(), "bare state dict; 'module.' prefix stripped");
}

TEST(ReadStateDictFile, UnwrapsDeiTCheckpoint) {
  absl::StatusOr<StateDictFile> plain = ReadStateDictFile(Fixture("tiny_plain.pth"));
  absl::StatusOr<StateDictFile> file = ReadStateDictFile(Fixture("tiny_deit_checkpoint.pth"));
  ASSERT_THAT(file, IsOk());
  ExpectSameTensors(file->tensors, plain->tensors);
  EXPECT_EQ(file->wrapper_key, "model");
  EXPECT_THAT(file->ignored_keys,
              ElementsAre("optimizer", "lr_scheduler", "epoch", "model_ema", "scaler", "args"));
  EXPECT_EQ(file->Describe(),
            "state dict under 'model' (ignored: optimizer, lr_scheduler, epoch, model_ema, "
            "scaler, args)");
}

TEST(ReadStateDictFile, UnwrapsTimmCheckpointAndSelectsEmaOnRequest) {
  absl::StatusOr<StateDictFile> plain = ReadStateDictFile(Fixture("tiny_plain.pth"));
  absl::StatusOr<StateDictFile> file = ReadStateDictFile(Fixture("tiny_timm_checkpoint.pth"));
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->wrapper_key, "state_dict");
  ExpectSameTensors(file->tensors, plain->tensors);
  // make_fixtures.py wrote the EMA weights as twice the model's.
  absl::StatusOr<StateDictFile> ema =
      ReadStateDictFile(Fixture("tiny_timm_checkpoint.pth"), "state_dict_ema");
  ASSERT_THAT(ema, IsOk());
  EXPECT_TRUE(torch::equal(ema->tensors["fc.weight"], 2 * plain->tensors["fc.weight"]));
  EXPECT_THAT(ReadStateDictFile(Fixture("tiny_timm_checkpoint.pth"), "model"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("no entry 'model'"),
                             HasSubstr("epoch, arch, state_dict, optimizer, version"))));
}

TEST(ReadStateDictFile, ReadsEveryDtypeAndLayout) {
  absl::StatusOr<StateDictFile> file = ReadStateDictFile(Fixture("tensor_kinds.pth"));
  ASSERT_THAT(file, IsOk());
  const StateDict& t = file->tensors;
  const torch::Tensor arange = torch::arange(6, torch::kFloat64).view({2, 3});
  for (const auto& [name, dtype] :
       std::vector<std::pair<std::string, torch::ScalarType>>{{"f32", torch::kFloat32},
                                                              {"f64", torch::kFloat64},
                                                              {"f16", torch::kFloat16},
                                                              {"bf16", torch::kBFloat16},
                                                              {"u8", torch::kUInt8}}) {
    EXPECT_EQ(t[name].scalar_type(), dtype) << name;
    EXPECT_TRUE(torch::equal(t[name].to(torch::kFloat64), arange)) << name;
  }
  for (const auto& [name, dtype] :
       std::vector<std::pair<std::string, torch::ScalarType>>{{"i64", torch::kInt64},
                                                              {"i32", torch::kInt32},
                                                              {"i16", torch::kInt16},
                                                              {"i8", torch::kInt8}}) {
    EXPECT_EQ(t[name].scalar_type(), dtype) << name;
    EXPECT_TRUE(torch::equal(t[name].to(torch::kFloat64), arange - 3)) << name;
  }
  EXPECT_TRUE(torch::equal(t["bool"], torch::tensor({{false, true, false}, {true, false, true}})));
  EXPECT_TRUE(torch::equal(t["transposed"], arange.to(torch::kFloat32).t()));
  EXPECT_EQ(t["transposed"].strides(), torch::IntArrayRef({1, 3}));
  EXPECT_TRUE(torch::equal(t["view_at_offset"], torch::tensor({2.f, 3.f, 4.f})));
  EXPECT_EQ(t["view_at_offset"].data_ptr<float>(), t["big"].data_ptr<float>() + 2);
  EXPECT_EQ(t["scalar"].dim(), 0);
  EXPECT_EQ(t["scalar"].item<int64_t>(), 7);
  EXPECT_EQ(t["empty"].sizes(), torch::IntArrayRef({0, 3}));
  EXPECT_TRUE(torch::equal(t["parameter"], torch::tensor({0.f, 1.f, 2.f})));
}

TEST(ReadStateDictFile, MissingFileIsNotFound) {
  EXPECT_THAT(ReadStateDictFile(TempPath("no_such.pth")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such.pth")));
}

TEST(ReadStateDictFile, TruncatedOrEmptyFileIsDataLoss) {
  absl::StatusOr<std::string> bytes = ReadFileToString(Fixture("tiny_plain.pth"));
  ASSERT_THAT(bytes, IsOk());
  const std::string truncated = TempPath("truncated.pth");
  ASSERT_THAT(WriteFileAtomically(truncated, bytes->substr(0, bytes->size() / 2)), IsOk());
  EXPECT_THAT(ReadStateDictFile(truncated),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr(truncated), HasSubstr("truncated or damaged"))));
  const std::string empty = TempPath("empty.pth");
  ASSERT_THAT(WriteFileAtomically(empty, ""), IsOk());
  EXPECT_THAT(ReadStateDictFile(empty),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("is empty")));
}

TEST(ReadStateDictFile, DamagedContentIsDataLoss) {
  absl::StatusOr<std::string> bytes = ReadFileToString(Fixture("tiny_plain.pth"));
  ASSERT_THAT(bytes, IsOk());
  // One flipped byte inside the stored data.pkl record. (LibTorch's zip reader does not check
  // CRC-32s; the damaged pickle program is what gets caught.)
  std::string damaged = *bytes;
  const size_t record = damaged.find("tiny_plain/data.pkl");
  ASSERT_NE(record, std::string::npos);
  damaged[record + 200] ^= 0x5a;
  const std::string path = TempPath("damaged.pth");
  ASSERT_THAT(WriteFileAtomically(path, damaged), IsOk());
  EXPECT_THAT(ReadStateDictFile(path),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr(path), HasSubstr("corrupt pickle at byte"))));
}

TEST(ReadStateDictFile, RejectsFilesThatAreNotTorchSaveArchives) {
  const std::string text = TempPath("notes.pth");
  ASSERT_THAT(WriteFileAtomically(text, "hello, weights"), IsOk());
  EXPECT_THAT(ReadStateDictFile(text),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(text), HasSubstr("not a PyTorch weights file"),
                             HasSubstr("68 65 6c 6c"))));
  EXPECT_THAT(
      ReadStateDictFile(Fixture("tiny_legacy.pth")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("legacy (PyTorch < 1.6)"), HasSubstr("torch.save(torch.load('"))));
  EXPECT_THAT(ReadStateDictFile(Fixture("tiny_plain_pickle.pkl")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("plain Python pickle")));
  // A LibTorch archive (what torch::save and this project's training checkpoints write).
  const std::string archive = TempPath("libtorch_archive.pt");
  torch::save(torch::ones({2}), archive);
  EXPECT_THAT(ReadStateDictFile(archive), StatusIs(absl::StatusCode::kInvalidArgument,
                                                   HasSubstr("TorchScript / LibTorch archive")));
}

TEST(ReadStateDictFile, RejectsPicklesThatAreNotDictsOfTensors) {
  EXPECT_THAT(ReadStateDictFile(Fixture("tiny_list.pth")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("holds a list, not a dict of tensors")));
  EXPECT_THAT(ReadStateDictFile(Fixture("tiny_mixed.pth")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("entry 'config' is a dict, not a tensor"),
                             HasSubstr("none of the wrapper keys"),
                             HasSubstr("top-level keys: weight, config"))));
  EXPECT_THAT(ReadStateDictFile(Fixture("tiny_deit_checkpoint.pth"), "epoch"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the state dict (under 'epoch') is an int")));
  EXPECT_THAT(ReadStateDictFile(Fixture("tiny_quantized.pth")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("tiny_quantized.pth"), HasSubstr("QUInt8Storage"),
                             HasSubstr("only dense tensors"))));
}

TEST(WriteStateDictFile, RoundTripsDtypesLayoutsAndOrder) {
  StateDict written;
  written.insert("z.weight", torch::randn({3, 4}).t());  // non-contiguous
  written.insert("a.num_batches_tracked", torch::tensor(12, torch::kInt64));
  written.insert("m.mask", torch::tensor({true, false}));
  written.insert("h.half", torch::arange(4, torch::kFloat16));
  const std::string path = TempPath("round_trip.pth");
  ASSERT_THAT(WriteStateDictFile(path, written), IsOk());
  absl::StatusOr<StateDictFile> read = ReadStateDictFile(path);
  ASSERT_THAT(read, IsOk());
  ExpectSameTensors(read->tensors, written);
  for (const auto& item : written) {
    EXPECT_EQ(read->tensors[item.key()].dtype(), item.value().dtype()) << item.key();
  }
}

TEST(WriteStateDictFile, ReportsUnwritablePaths) {
  StateDict state_dict;
  state_dict.insert("w", torch::ones({1}));
  EXPECT_THAT(WriteStateDictFile("/nonexistent_dir/x.pth", state_dict),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent_dir/x.pth")));
}

}  // namespace
}  // namespace robustness
