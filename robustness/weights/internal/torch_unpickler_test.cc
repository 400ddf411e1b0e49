#include "robustness/weights/internal/torch_unpickler.h"

#include <cstring>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "robustness/base/status_matchers.h"

namespace robustness {
namespace internal {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;
using Kind = PyValue::Kind;

// Pickle programs are spelled out opcode by opcode (Python's pickletools names in comments).
const std::string kProto2 = "\x80\x02";  // PROTO 2

std::string LE(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}
std::string Str(const std::string& s) { return "X" + LE(s.size(), 4) + s; }  // BINUNICODE
std::string Int(int v) { return "K" + LE(v, 1); }                            // BININT1
std::string Global(const std::string& module, const std::string& name) {
  return "c" + module + "\n" + name + "\n";  // GLOBAL
}
std::string Float(double v) {  // BINFLOAT, big-endian
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  std::string s = "G";
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  return s;
}
// torch._utils._rebuild_tensor_v2((storage key, FloatStorage, numel), offset, size, stride, ...)
std::string FloatTensor(const std::string& key, int numel, int offset, const std::string& size,
                        const std::string& stride) {
  return Global("torch._utils", "_rebuild_tensor_v2") + "(" + "(" + Str("storage") +
         Global("torch", "FloatStorage") + Str(key) + Str("cpu") + Int(numel) + "t" + "Q" +
         Int(offset) + "(" + size + "t" + "(" + stride + "t" + "\x89" +
         Global("collections", "OrderedDict") + ")R" + "t" + "R";
}

StorageLoader ArangeLoader(int* calls) {
  return [calls](const std::string&, torch::ScalarType dtype,
                 int64_t numel) -> absl::StatusOr<torch::Tensor> {
    ++*calls;
    return torch::arange(numel, torch::TensorOptions().dtype(dtype));
  };
}

TEST(Unpickle, ReadsScalarsAndContainers) {
  // {'a': 1, 'b': [1.5, None, True], 'c': ('y', -256)}
  const std::string program = kProto2 + "}(" + Str("a") + Int(1) + Str("b") + "](" + Float(1.5) +
                              "N\x88" + "e" + Str("c") + Str("y") + "\x8a\x02\x00\xff"s + "\x86" +
                              "u.";
  int calls = 0;
  absl::StatusOr<PyValuePtr> value = Unpickle(program, ArangeLoader(&calls));
  ASSERT_THAT(value, IsOk());
  const PyValue& dict = **value;
  ASSERT_EQ(dict.kind, Kind::kDict);
  ASSERT_EQ(dict.entries.size(), 3u);
  EXPECT_EQ(dict.entries[0].first->text, "a");
  EXPECT_EQ(dict.entries[0].second->integer, 1);
  const PyValue& list = *dict.entries[1].second;
  ASSERT_EQ(list.kind, Kind::kList);
  ASSERT_EQ(list.items.size(), 3u);
  EXPECT_EQ(list.items[0]->real, 1.5);
  EXPECT_EQ(list.items[1]->kind, Kind::kNone);
  EXPECT_TRUE(list.items[2]->boolean);
  const PyValue& tuple = *dict.entries[2].second;
  ASSERT_EQ(tuple.kind, Kind::kTuple);
  EXPECT_EQ(tuple.items[0]->text, "y");
  EXPECT_EQ(tuple.items[1]->integer, -256);
  EXPECT_EQ(calls, 0);
}

TEST(Unpickle, OrderedDictKeepsOrderAndDropsMetadata) {
  // OrderedDict([('z', 1), ('a', 2)]) with its _metadata state, memoised and recalled.
  const std::string program = kProto2 + Global("collections", "OrderedDict") + "q\x00"s + ")R" +
                              "(" + Str("z") + Int(1) + Str("a") + Int(2) + "u" + "}" +
                              Str("_metadata") + "h\x00"s + ")R" + "s" + "b.";
  int calls = 0;
  absl::StatusOr<PyValuePtr> value = Unpickle(program, ArangeLoader(&calls));
  ASSERT_THAT(value, IsOk());
  ASSERT_EQ((*value)->kind, Kind::kDict);
  ASSERT_EQ((*value)->entries.size(), 2u);
  EXPECT_EQ((*value)->entries[0].first->text, "z");
  EXPECT_EQ((*value)->entries[1].first->text, "a");
}

TEST(Unpickle, RebuildsStridedViewsSharingOneStorage) {
  // {'t': storage[1:7] viewed as [3, 2] with strides (1, 3), 'all': the whole storage of 8}
  const std::string program = kProto2 + "}(" + Str("t") +
                              FloatTensor("0", 8, 1, Int(3) + Int(2), Int(1) + Int(3)) +
                              Str("all") + FloatTensor("0", 8, 0, Int(8), Int(1)) + "u.";
  int calls = 0;
  absl::StatusOr<PyValuePtr> value = Unpickle(program, ArangeLoader(&calls));
  ASSERT_THAT(value, IsOk());
  EXPECT_EQ(calls, 1);  // one storage, loaded once
  const torch::Tensor t = (*value)->entries[0].second->tensor;
  const torch::Tensor all = (*value)->entries[1].second->tensor;
  EXPECT_TRUE(torch::equal(t, torch::tensor({{1.f, 4.f}, {2.f, 5.f}, {3.f, 6.f}})));
  EXPECT_EQ(t.data_ptr<float>(), all.data_ptr<float>() + 1);  // a view, as in Python
}

TEST(Unpickle, UnknownClassesBecomeOpaqueObjects) {
  // {'args': argparse.Namespace(lr=0.1)}: NEWOBJ, then BUILD with the instance dict.
  const std::string program = kProto2 + "}(" + Str("args") + Global("argparse", "Namespace") +
                              ")\x81" + "}" + Str("lr") + Float(0.1) + "s" + "b" + "u.";
  int calls = 0;
  absl::StatusOr<PyValuePtr> value = Unpickle(program, ArangeLoader(&calls));
  ASSERT_THAT(value, IsOk());
  const PyValue& args = *(*value)->entries[0].second;
  EXPECT_EQ(args.kind, Kind::kObject);
  EXPECT_EQ(DescribeKind(args), "an object of argparse.Namespace");
}

TEST(Unpickle, ReportsMalformedPrograms) {
  int calls = 0;
  const StorageLoader loader = ArangeLoader(&calls);
  EXPECT_THAT(Unpickle(kProto2 + "}", loader),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("without STOP")));
  EXPECT_THAT(Unpickle(kProto2 + "u.", loader),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("no MARK")));
  EXPECT_THAT(Unpickle(kProto2 + "s.", loader),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("stack underflow")));
  EXPECT_THAT(Unpickle(kProto2 + "h\x07.", loader),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("memo entry 7 does not exist")));
  EXPECT_THAT(Unpickle(kProto2 + "\xff.", loader),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("byte 2 (opcode 0xff)")));
  EXPECT_THAT(Unpickle(kProto2 + "X\x10\x00\x00\x00"
                                 "abc"s,
                       loader),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("past the end")));
}

TEST(Unpickle, RejectsViewsOutsideTheirStorage) {
  int calls = 0;
  const std::string program = kProto2 + FloatTensor("0", 4, 2, Int(3), Int(1)) + ".";
  EXPECT_THAT(Unpickle(program, ArangeLoader(&calls)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("runs past its storage")));
}

TEST(Unpickle, RejectsUnsupportedTensorKinds) {
  int calls = 0;
  const std::string program =
      kProto2 + Global("torch._utils", "_rebuild_qtensor") + "(" + Int(0) + "tR.";
  EXPECT_THAT(Unpickle(program, ArangeLoader(&calls)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("torch._utils._rebuild_qtensor (only dense tensors")));
}

TEST(Unpickle, PassesStorageLoaderErrorsThrough) {
  const StorageLoader failing = [](const std::string& key, torch::ScalarType,
                                   int64_t) -> absl::StatusOr<torch::Tensor> {
    return absl::DataLossError("storage record 'data/" + key + "' is missing");
  };
  const std::string program = kProto2 + FloatTensor("3", 4, 0, Int(4), Int(1)) + ".";
  EXPECT_THAT(Unpickle(program, failing),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'data/3' is missing")));
}

}  // namespace
}  // namespace internal
}  // namespace robustness
