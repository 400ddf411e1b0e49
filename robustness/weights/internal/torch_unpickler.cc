#include "robustness/weights/internal/torch_unpickler.h"

#include <cstring>
#include <exception>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"

namespace robustness {
namespace internal {
namespace {

using Kind = PyValue::Kind;

PyValuePtr Make(Kind kind) {
  auto value = std::make_shared<PyValue>();
  value->kind = kind;
  return value;
}

PyValuePtr MakeInt(int64_t v) {
  PyValuePtr value = Make(Kind::kInt);
  value->integer = v;
  return value;
}

PyValuePtr MakeText(Kind kind, absl::string_view text) {
  PyValuePtr value = Make(kind);
  value->text = std::string(text);
  return value;
}

// The storage classes torch.save names in persistent ids ("torch.FloatStorage", ...).
bool StorageDtype(const std::string& name, torch::ScalarType* dtype) {
  static const auto* const kDtypes = new std::map<std::string, torch::ScalarType>{
      {"torch.FloatStorage", torch::kFloat32},
      {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},
      {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.ComplexFloatStorage", torch::kComplexFloat},
      {"torch.ComplexDoubleStorage", torch::kComplexDouble},
      {"torch.LongStorage", torch::kInt64},
      {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},
      {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},
      {"torch.BoolStorage", torch::kBool},
      {"torch.UntypedStorage", torch::kUInt8},
  };
  auto it = kDtypes->find(name);
  if (it == kDtypes->end()) return false;
  *dtype = it->second;
  return true;
}

// Opcodes of pickle protocols 0-5 (Python's Lib/pickle.py names).
enum Opcode : uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  FLOAT = 'F',
  INT = 'I',
  BININT = 'J',
  BININT1 = 'K',
  LONG = 'L',
  BININT2 = 'M',
  NONE = 'N',
  PERSID = 'P',
  BINPERSID = 'Q',
  REDUCE = 'R',
  STRING = 'S',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  UNICODE = 'V',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  GET = 'g',
  BINGET = 'h',
  INST = 'i',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  OBJ = 'o',
  PUT = 'p',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  BINFLOAT = 'G',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  EXT1 = 0x82,
  EXT2 = 0x83,
  EXT4 = 0x84,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
  NEXT_BUFFER = 0x97,
  READONLY_BUFFER = 0x98,
};

class Unpickler {
 public:
  Unpickler(absl::string_view data, const StorageLoader& load_storage)
      : data_(data), load_storage_(load_storage) {}

  absl::StatusOr<PyValuePtr> Run() {
    while (true) {
      op_offset_ = pos_;
      uint8_t op;
      if (!ReadByte(&op)) return Corrupt("the program ends without STOP (truncated?)");
      op_ = op;
      if (op == STOP) {
        if (!marks_.empty() || stack_.size() != 1) {
          return Corrupt(absl::StrCat("STOP with ", stack_.size(), " values and ", marks_.size(),
                                      " open marks"));
        }
        return stack_.back();
      }
      RETURN_IF_ERROR(Step(op));
    }
  }

 private:
  absl::Status Corrupt(absl::string_view what) const {
    return absl::DataLossError(
        absl::StrFormat("corrupt pickle at byte %d (opcode 0x%02x): %s", op_offset_, op_, what));
  }
  absl::Status Unsupported(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("unsupported pickle content: ", what));
  }

  // ---- reading the byte stream ----
  bool ReadBytes(uint64_t n, absl::string_view* out) {
    if (n > data_.size() - pos_) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool ReadByte(uint8_t* out) {
    if (pos_ >= data_.size()) return false;
    *out = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  // Little-endian unsigned integer of `n` <= 8 bytes.
  bool ReadUnsigned(int n, uint64_t* out) {
    absl::string_view bytes;
    if (!ReadBytes(n, &bytes)) return false;
    *out = 0;
    for (int i = n - 1; i >= 0; --i) *out = (*out << 8) | static_cast<uint8_t>(bytes[i]);
    return true;
  }
  absl::Status ReadLine(std::string* line) {
    const size_t end = data_.find('\n', pos_);
    if (end == absl::string_view::npos) return Corrupt("unterminated text argument");
    *line = std::string(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return absl::OkStatus();
  }
  absl::Status ReadLength(int width, uint64_t* length) {
    if (!ReadUnsigned(width, length)) return Corrupt("truncated length");
    if (*length > data_.size() - pos_) return Corrupt("length runs past the end of the data");
    return absl::OkStatus();
  }

  // ---- the stack ----
  size_t Base() const { return marks_.empty() ? 0 : marks_.back(); }
  absl::Status Pop(PyValuePtr* out) {
    if (stack_.size() <= Base()) return Corrupt("stack underflow");
    *out = std::move(stack_.back());
    stack_.pop_back();
    return absl::OkStatus();
  }
  absl::Status Top(PyValuePtr* out) {
    if (stack_.size() <= Base()) return Corrupt("stack underflow");
    *out = stack_.back();
    return absl::OkStatus();
  }
  absl::Status PopMark(std::vector<PyValuePtr>* items) {
    if (marks_.empty()) return Corrupt("no MARK to pop to");
    const size_t mark = marks_.back();
    marks_.pop_back();
    items->assign(std::make_move_iterator(stack_.begin() + mark),
                  std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return absl::OkStatus();
  }
  void Push(PyValuePtr value) { stack_.push_back(std::move(value)); }

  absl::Status Memoize(uint64_t index) {
    PyValuePtr top;
    RETURN_IF_ERROR(Top(&top));
    memo_[index] = std::move(top);
    return absl::OkStatus();
  }
  absl::Status Recall(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Corrupt(absl::StrCat("memo entry ", index, " does not exist"));
    Push(it->second);
    return absl::OkStatus();
  }

  absl::Status AddToDict(const PyValuePtr& dict, std::vector<PyValuePtr> items) {
    if (dict->kind != Kind::kDict) {
      return Unsupported(absl::StrCat("setting items on ", DescribeKind(*dict)));
    }
    if (items.size() % 2 != 0) return Corrupt("odd number of items for a dict");
    for (size_t i = 0; i < items.size(); i += 2) {
      dict->entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
    }
    return absl::OkStatus();
  }

  absl::Status AddToSequence(const PyValuePtr& target, std::vector<PyValuePtr> items,
                             Kind expected) {
    if (target->kind != expected) {
      return Unsupported(absl::StrCat("adding items to ", DescribeKind(*target)));
    }
    for (auto& item : items) target->items.push_back(std::move(item));
    return absl::OkStatus();
  }

  absl::Status PushLong(absl::string_view bytes) {
    if (bytes.size() > 8) {
      // Python ints beyond 64 bits never hold weights; keep them opaque.
      Push(MakeText(Kind::kObject, "builtins.int (more than 64 bits)"));
      return absl::OkStatus();
    }
    uint64_t v = 0;
    for (int i = static_cast<int>(bytes.size()) - 1; i >= 0; --i) {
      v = (v << 8) | static_cast<uint8_t>(bytes[i]);
    }
    if (!bytes.empty() && bytes.size() < 8 && (static_cast<uint8_t>(bytes.back()) & 0x80)) {
      v |= ~uint64_t{0} << (8 * bytes.size());  // sign-extend two's complement
    }
    Push(MakeInt(static_cast<int64_t>(v)));
    return absl::OkStatus();
  }

  absl::Status PushTextInt(const std::string& line) {
    if (line == "00" || line == "01") {  // protocol 0/1 booleans
      PyValuePtr value = Make(Kind::kBool);
      value->boolean = line == "01";
      Push(std::move(value));
      return absl::OkStatus();
    }
    int64_t v;
    if (!absl::SimpleAtoi(absl::StripSuffix(line, "L"), &v)) {
      return Corrupt(absl::StrCat("bad integer '", line, "'"));
    }
    Push(MakeInt(v));
    return absl::OkStatus();
  }

  // ---- calls: REDUCE and NEWOBJ on the few globals state dicts use ----
  absl::StatusOr<int64_t> IntArg(const PyValuePtr& v, absl::string_view what) {
    if (v->kind != Kind::kInt) {
      return Corrupt(absl::StrCat(what, " is ", DescribeKind(*v), ", not an int"));
    }
    return v->integer;
  }
  absl::StatusOr<std::vector<int64_t>> IntTuple(const PyValuePtr& v, absl::string_view what) {
    if (v->kind != Kind::kTuple) {
      return Corrupt(absl::StrCat(what, " is ", DescribeKind(*v), ", not a tuple"));
    }
    std::vector<int64_t> out;
    for (const auto& item : v->items) {
      ASSIGN_OR_RETURN(int64_t x, IntArg(item, what));
      out.push_back(x);
    }
    return out;
  }

  absl::StatusOr<PyValuePtr> RebuildTensor(const std::vector<PyValuePtr>& args) {
    if (args.size() < 4) return Corrupt("tensor rebuild needs 4 arguments");
    const PyValuePtr& storage = args[0];
    if (storage->kind != Kind::kStorage) {
      return Corrupt(absl::StrCat("tensor storage is ", DescribeKind(*storage)));
    }
    ASSIGN_OR_RETURN(int64_t offset, IntArg(args[1], "tensor storage offset"));
    ASSIGN_OR_RETURN(std::vector<int64_t> size, IntTuple(args[2], "tensor size"));
    ASSIGN_OR_RETURN(std::vector<int64_t> stride, IntTuple(args[3], "tensor stride"));
    if (size.size() != stride.size()) return Corrupt("tensor size and stride differ in length");
    // The view must lie inside its storage; computed in 128 bits so that no input overflows.
    __int128 numel = 1, last = offset;
    for (size_t d = 0; d < size.size(); ++d) {
      if (size[d] < 0 || stride[d] < 0 || size[d] > (int64_t{1} << 48)) {
        return Corrupt("negative or absurd tensor size or stride");
      }
      numel *= size[d];
      if (size[d] > 0) last += static_cast<__int128>(size[d] - 1) * stride[d];
    }
    if (offset < 0 || (numel > 0 && last >= storage->tensor.numel())) {
      return Corrupt(absl::StrCat("tensor view (offset ", offset, ") runs past its storage of ",
                                  storage->tensor.numel(), " elements"));
    }
    PyValuePtr tensor = Make(Kind::kTensor);
    tensor->tensor = storage->tensor.as_strided(size, stride, offset);
    return tensor;
  }

  absl::StatusOr<PyValuePtr> Call(const PyValuePtr& callable, const PyValuePtr& args_tuple) {
    if (callable->kind != Kind::kGlobal) {
      return MakeText(Kind::kObject, "<result of calling " + DescribeKind(*callable) + ">");
    }
    if (args_tuple->kind != Kind::kTuple) {
      return Corrupt(
          absl::StrCat("arguments of ", callable->text, " are ", DescribeKind(*args_tuple)));
    }
    const std::string& name = callable->text;
    const std::vector<PyValuePtr>& args = args_tuple->items;
    if (name == "collections.OrderedDict" || name == "builtins.dict") {
      PyValuePtr dict = Make(Kind::kDict);
      if (args.size() == 1 && (args[0]->kind == Kind::kList || args[0]->kind == Kind::kTuple)) {
        for (const auto& pair : args[0]->items) {
          if (pair->kind != Kind::kTuple || pair->items.size() != 2) {
            return Corrupt("dict built from something other than pairs");
          }
          dict->entries.emplace_back(pair->items[0], pair->items[1]);
        }
      } else if (!args.empty()) {
        return Unsupported(absl::StrCat(name, " called with ", args.size(), " arguments"));
      }
      return dict;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      return RebuildTensor(args);
    }
    if (name == "torch._utils._rebuild_parameter" ||
        name == "torch._utils._rebuild_parameter_with_state" ||
        name == "torch.jit._pickle.restore_type_tag" || name == "torch.Size") {
      if (args.empty()) return Corrupt(absl::StrCat(name, " without arguments"));
      return args[0];  // the tensor (a Parameter is saved as its data) / the value / the tuple
    }
    if (name == "torch._tensor._rebuild_from_type_v2") {
      if (args.size() < 3) return Corrupt(absl::StrCat(name, " needs 3 arguments"));
      const std::string& type = args[1]->text;
      if (type != "torch._tensor.Tensor" && type != "torch.Tensor" &&
          type != "torch.nn.parameter.Parameter") {
        return Unsupported(absl::StrCat("tensor subclass ", type));
      }
      return Call(args[0], args[2]);
    }
    if (name == "builtins.set" || name == "builtins.frozenset") {
      PyValuePtr set = Make(Kind::kSet);
      if (!args.empty()) set->items = args[0]->items;
      return set;
    }
    if (absl::StartsWith(name, "torch._utils._rebuild") ||
        absl::StartsWith(name, "torch._tensor._rebuild")) {
      return Unsupported(absl::StrCat("tensor kind ", name, " (only dense tensors can be read)"));
    }
    return MakeText(Kind::kObject, name);
  }

  absl::StatusOr<PyValuePtr> LoadPersistent(const PyValuePtr& pid) {
    if (pid->kind != Kind::kTuple || pid->items.size() < 5 ||
        pid->items[0]->kind != Kind::kString || pid->items[0]->text != "storage") {
      return Unsupported(absl::StrCat("persistent id ", DescribeKind(*pid),
                                      " (expected a torch.save storage record)"));
    }
    const PyValuePtr& type = pid->items[1];
    const PyValuePtr& key = pid->items[2];
    torch::ScalarType dtype;
    if (type->kind != Kind::kGlobal || !StorageDtype(type->text, &dtype)) {
      return Unsupported(absl::StrCat("storage type ", DescribeKind(*type),
                                      " (only dense tensors of standard dtypes can be read)"));
    }
    if (key->kind != Kind::kString) return Corrupt("storage key is not a string");
    ASSIGN_OR_RETURN(int64_t numel, IntArg(pid->items[4], "storage size"));
    if (numel < 0) return Corrupt("negative storage size");
    auto it = storages_.find(key->text);
    if (it != storages_.end()) {
      if (it->second->tensor.scalar_type() != dtype) {
        return Unsupported(absl::StrCat("storage '", key->text, "' used with two dtypes"));
      }
      return it->second;
    }
    ASSIGN_OR_RETURN(torch::Tensor data, load_storage_(key->text, dtype, numel));
    PyValuePtr storage = Make(Kind::kStorage);
    storage->tensor = std::move(data);
    storages_.emplace(key->text, storage);
    return storage;
  }

  absl::Status Step(uint8_t op) {
    PyValuePtr a, b, c;
    std::vector<PyValuePtr> items;
    std::string line;
    absl::string_view bytes;
    uint64_t n = 0;
    switch (op) {
      case PROTO:
        if (!ReadUnsigned(1, &n)) return Corrupt("truncated");
        if (n > 5) return Unsupported(absl::StrCat("pickle protocol ", n));
        return absl::OkStatus();
      case FRAME:
        if (!ReadUnsigned(8, &n)) return Corrupt("truncated");
        return absl::OkStatus();
      case MARK:
        marks_.push_back(stack_.size());
        return absl::OkStatus();
      case POP:
        if (stack_.size() > Base()) return Pop(&a);
        return PopMark(&items);
      case POP_MARK:
        return PopMark(&items);
      case DUP:
        RETURN_IF_ERROR(Top(&a));
        Push(a);
        return absl::OkStatus();
      case NONE:
        Push(Make(Kind::kNone));
        return absl::OkStatus();
      case NEWTRUE:
      case NEWFALSE:
        a = Make(Kind::kBool);
        a->boolean = op == NEWTRUE;
        Push(a);
        return absl::OkStatus();
      case INT:
      case LONG:
        RETURN_IF_ERROR(ReadLine(&line));
        return PushTextInt(line);
      case BININT:
        if (!ReadUnsigned(4, &n)) return Corrupt("truncated");
        Push(MakeInt(static_cast<int32_t>(static_cast<uint32_t>(n))));
        return absl::OkStatus();
      case BININT1:
      case BININT2:
        if (!ReadUnsigned(op == BININT1 ? 1 : 2, &n)) return Corrupt("truncated");
        Push(MakeInt(static_cast<int64_t>(n)));
        return absl::OkStatus();
      case LONG1:
      case LONG4:
        RETURN_IF_ERROR(ReadLength(op == LONG1 ? 1 : 4, &n));
        ReadBytes(n, &bytes);
        return PushLong(bytes);
      case FLOAT: {
        RETURN_IF_ERROR(ReadLine(&line));
        a = Make(Kind::kFloat);
        if (!absl::SimpleAtod(line, &a->real)) return Corrupt("bad float");
        Push(a);
        return absl::OkStatus();
      }
      case BINFLOAT: {
        if (!ReadBytes(8, &bytes)) return Corrupt("truncated");
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(bytes[i]);
        a = Make(Kind::kFloat);
        std::memcpy(&a->real, &bits, sizeof(bits));  // big-endian IEEE 754
        Push(a);
        return absl::OkStatus();
      }
      case SHORT_BINUNICODE:
      case BINUNICODE:
      case BINUNICODE8:
      case SHORT_BINSTRING:
      case BINSTRING:
        RETURN_IF_ERROR(ReadLength(op == SHORT_BINUNICODE || op == SHORT_BINSTRING ? 1
                                   : op == BINUNICODE8                             ? 8
                                                                                   : 4,
                                   &n));
        ReadBytes(n, &bytes);
        Push(MakeText(Kind::kString, bytes));
        return absl::OkStatus();
      case SHORT_BINBYTES:
      case BINBYTES:
      case BINBYTES8:
      case BYTEARRAY8:
        RETURN_IF_ERROR(ReadLength(op == SHORT_BINBYTES ? 1 : op == BINBYTES ? 4 : 8, &n));
        ReadBytes(n, &bytes);
        Push(MakeText(Kind::kBytes, bytes));
        return absl::OkStatus();
      case EMPTY_TUPLE:
        Push(Make(Kind::kTuple));
        return absl::OkStatus();
      case TUPLE:
        RETURN_IF_ERROR(PopMark(&items));
        a = Make(Kind::kTuple);
        a->items = std::move(items);
        Push(a);
        return absl::OkStatus();
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const int count = op - TUPLE1 + 1;
        a = Make(Kind::kTuple);
        a->items.resize(count);
        for (int i = count - 1; i >= 0; --i) RETURN_IF_ERROR(Pop(&a->items[i]));
        Push(a);
        return absl::OkStatus();
      }
      case EMPTY_LIST:
        Push(Make(Kind::kList));
        return absl::OkStatus();
      case LIST:
        RETURN_IF_ERROR(PopMark(&items));
        a = Make(Kind::kList);
        a->items = std::move(items);
        Push(a);
        return absl::OkStatus();
      case APPEND:
        RETURN_IF_ERROR(Pop(&b));
        RETURN_IF_ERROR(Top(&a));
        return AddToSequence(a, {b}, Kind::kList);
      case APPENDS:
        RETURN_IF_ERROR(PopMark(&items));
        RETURN_IF_ERROR(Top(&a));
        return AddToSequence(a, std::move(items), Kind::kList);
      case EMPTY_DICT:
        Push(Make(Kind::kDict));
        return absl::OkStatus();
      case DICT:
        RETURN_IF_ERROR(PopMark(&items));
        a = Make(Kind::kDict);
        RETURN_IF_ERROR(AddToDict(a, std::move(items)));
        Push(a);
        return absl::OkStatus();
      case SETITEM:
        RETURN_IF_ERROR(Pop(&c));
        RETURN_IF_ERROR(Pop(&b));
        RETURN_IF_ERROR(Top(&a));
        return AddToDict(a, {b, c});
      case SETITEMS:
        RETURN_IF_ERROR(PopMark(&items));
        RETURN_IF_ERROR(Top(&a));
        return AddToDict(a, std::move(items));
      case EMPTY_SET:
        Push(Make(Kind::kSet));
        return absl::OkStatus();
      case ADDITEMS:
        RETURN_IF_ERROR(PopMark(&items));
        RETURN_IF_ERROR(Top(&a));
        return AddToSequence(a, std::move(items), Kind::kSet);
      case FROZENSET:
        RETURN_IF_ERROR(PopMark(&items));
        a = Make(Kind::kSet);
        a->items = std::move(items);
        Push(a);
        return absl::OkStatus();
      case GET:
      case PUT: {
        RETURN_IF_ERROR(ReadLine(&line));
        uint64_t index;
        if (!absl::SimpleAtoi(line, &index)) return Corrupt("bad memo index");
        return op == GET ? Recall(index) : Memoize(index);
      }
      case BINGET:
      case LONG_BINGET:
        if (!ReadUnsigned(op == BINGET ? 1 : 4, &n)) return Corrupt("truncated");
        return Recall(n);
      case BINPUT:
      case LONG_BINPUT:
        if (!ReadUnsigned(op == BINPUT ? 1 : 4, &n)) return Corrupt("truncated");
        return Memoize(n);
      case MEMOIZE:
        return Memoize(memo_.size());
      case GLOBAL: {
        std::string module, name;
        RETURN_IF_ERROR(ReadLine(&module));
        RETURN_IF_ERROR(ReadLine(&name));
        if (module == "__builtin__") module = "builtins";  // Python 2 spelling
        Push(MakeText(Kind::kGlobal, absl::StrCat(module, ".", name)));
        return absl::OkStatus();
      }
      case STACK_GLOBAL:
        RETURN_IF_ERROR(Pop(&b));
        RETURN_IF_ERROR(Pop(&a));
        if (a->kind != Kind::kString || b->kind != Kind::kString) {
          return Corrupt("STACK_GLOBAL needs two strings");
        }
        Push(MakeText(Kind::kGlobal, absl::StrCat(a->text, ".", b->text)));
        return absl::OkStatus();
      case REDUCE: {
        RETURN_IF_ERROR(Pop(&b));
        RETURN_IF_ERROR(Pop(&a));
        ASSIGN_OR_RETURN(PyValuePtr result, Call(a, b));
        Push(std::move(result));
        return absl::OkStatus();
      }
      case NEWOBJ:
      case NEWOBJ_EX: {
        if (op == NEWOBJ_EX) RETURN_IF_ERROR(Pop(&c));  // keyword arguments
        RETURN_IF_ERROR(Pop(&b));
        RETURN_IF_ERROR(Pop(&a));
        if (a->kind == Kind::kGlobal && a->text == "collections.OrderedDict") {
          Push(Make(Kind::kDict));
        } else {
          Push(MakeText(Kind::kObject, a->kind == Kind::kGlobal ? a->text : "<unknown>"));
        }
        return absl::OkStatus();
      }
      case BUILD:
        // Instance state (an OrderedDict's _metadata, an argparse.Namespace's fields) is never
        // part of the weights; it is parsed and dropped.
        RETURN_IF_ERROR(Pop(&b));
        return Top(&a);
      case INST: {
        std::string module, name;
        RETURN_IF_ERROR(ReadLine(&module));
        RETURN_IF_ERROR(ReadLine(&name));
        RETURN_IF_ERROR(PopMark(&items));
        Push(MakeText(Kind::kObject, absl::StrCat(module, ".", name)));
        return absl::OkStatus();
      }
      case OBJ:
        RETURN_IF_ERROR(PopMark(&items));
        if (items.empty()) return Corrupt("OBJ without a class");
        Push(MakeText(Kind::kObject,
                      items[0]->kind == Kind::kGlobal ? items[0]->text : "<unknown>"));
        return absl::OkStatus();
      case BINPERSID: {
        RETURN_IF_ERROR(Pop(&a));
        ASSIGN_OR_RETURN(PyValuePtr storage, LoadPersistent(a));
        Push(std::move(storage));
        return absl::OkStatus();
      }
      case STRING:
      case UNICODE:
      case PERSID:
        return Unsupported("protocol-0 text opcodes (save with torch.save's default protocol)");
      case EXT1:
      case EXT2:
      case EXT4:
        return Unsupported("copyreg extension codes");
      case NEXT_BUFFER:
      case READONLY_BUFFER:
        return Unsupported("out-of-band buffers (pickle protocol 5)");
      default:
        return Corrupt("unknown opcode");
    }
  }

  absl::string_view data_;
  const StorageLoader& load_storage_;
  size_t pos_ = 0;
  size_t op_offset_ = 0;
  uint8_t op_ = 0;
  std::vector<PyValuePtr> stack_;
  std::vector<size_t> marks_;
  absl::flat_hash_map<uint64_t, PyValuePtr> memo_;
  absl::flat_hash_map<std::string, PyValuePtr> storages_;
};

}  // namespace

std::string DescribeKind(const PyValue& value) {
  switch (value.kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "a bool";
    case Kind::kInt:
      return "an int";
    case Kind::kFloat:
      return "a float";
    case Kind::kString:
      return "a str";
    case Kind::kBytes:
      return "bytes";
    case Kind::kTuple:
      return "a tuple";
    case Kind::kList:
      return "a list";
    case Kind::kDict:
      return "a dict";
    case Kind::kSet:
      return "a set";
    case Kind::kTensor:
      return "a tensor";
    case Kind::kStorage:
      return "a storage";
    case Kind::kGlobal:
      return "the global " + value.text;
    case Kind::kObject:
      return "an object of " + value.text;
  }
  return "an unknown value";
}

absl::StatusOr<PyValuePtr> Unpickle(absl::string_view pickle, const StorageLoader& load_storage) {
  try {
    return Unpickler(pickle, load_storage).Run();
  } catch (const std::exception& e) {
    // as_strided and the storage loader are checked above; this is the last line of defence
    // (e.g. std::bad_alloc), so that no exception crosses this boundary.
    return absl::InternalError(absl::StrCat("unpickling failed: ", ExceptionSummary(e)));
  }
}

}  // namespace internal
}  // namespace robustness
