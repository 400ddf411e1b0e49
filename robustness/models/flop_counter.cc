#include "robustness/models/flop_counter.h"

#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

// Compiled with -DNDEBUG (see BUILD): RecordFunction's layout must match Debian's LibTorch.
#include <ATen/record_function.h>
#include <glog/logging.h>
#include <torch/utils.h>

namespace robustness {
namespace {

// How an op's MACs follow from its operands.
enum class Formula {
  kConvolution,         // output.numel() * weight.numel() / weight.size(0); weight = input 1.
  kOutputTimesK,        // output.numel() * inputs[operand].size(-1), K the contracted size.
  kAddbmm,              // batch1.numel() * batch2.size(-1): the batch is summed away.
};

struct OpRule {
  const char* name;
  Formula formula;
  int operand;  // kOutputTimesK: the input whose last dimension is contracted.
};

// aten::linear is y = x W^T (+ b): K = x.size(-1). The addmm-style ops carry the added term
// first, so their left factor is input 1.
constexpr OpRule kRules[] = {
    {"aten::conv1d", Formula::kConvolution, 0},
    {"aten::conv2d", Formula::kConvolution, 0},
    {"aten::conv3d", Formula::kConvolution, 0},
    {"aten::conv_transpose1d", Formula::kConvolution, 0},
    {"aten::conv_transpose2d", Formula::kConvolution, 0},
    {"aten::conv_transpose3d", Formula::kConvolution, 0},
    {"aten::convolution", Formula::kConvolution, 0},
    {"aten::_convolution", Formula::kConvolution, 0},
    {"aten::linear", Formula::kOutputTimesK, 0},
    {"aten::matmul", Formula::kOutputTimesK, 0},
    {"aten::mm", Formula::kOutputTimesK, 0},
    {"aten::bmm", Formula::kOutputTimesK, 0},
    {"aten::mv", Formula::kOutputTimesK, 0},
    {"aten::dot", Formula::kOutputTimesK, 0},
    {"aten::addmm", Formula::kOutputTimesK, 1},
    {"aten::baddbmm", Formula::kOutputTimesK, 1},
    {"aten::addmv", Formula::kOutputTimesK, 1},
    {"aten::addbmm", Formula::kAddbmm, 1},
};

const OpRule* FindRule(const char* name) {
  for (const OpRule& rule : kRules) {
    if (std::strcmp(rule.name, name) == 0) return &rule;
  }
  return nullptr;
}

bool IsTransposed(const char* name, c10::ArrayRef<const c10::IValue> inputs) {
  if (std::strncmp(name, "aten::conv_transpose", 20) == 0) return true;
  // convolution(input, weight, bias, stride, padding, dilation, transposed, ...), same for
  // _convolution.
  return (std::strcmp(name, "aten::convolution") == 0 ||
          std::strcmp(name, "aten::_convolution") == 0) &&
         inputs.size() > 6 && inputs[6].isBool() && inputs[6].toBool();
}

const torch::Tensor& TensorInput(c10::ArrayRef<const c10::IValue> inputs, size_t i,
                                 const char* op) {
  CHECK(i < inputs.size() && inputs[i].isTensor())
      << "FlopCounter: " << op << " input " << i << " is not a tensor";
  return inputs[i].toTensor();
}

// The state of the one count running on this thread (CountFlops is not reentrant).
struct CountState {
  std::unordered_map<const void*, std::string> parameter_owner;  // storage data -> module path.
  std::unordered_map<std::string, size_t> index;                 // module path -> modules[i].
  FlopCount result;
  int depth = 0;  // Counted ops currently open: ops nested inside one are not counted again.
};

thread_local CountState* active_count = nullptr;

// What the start callback learns from the inputs (only valid there) for the end callback, which
// sees the outputs.
struct CountedOp : at::ObserverContext {
  std::string module;
  int64_t macs_per_output = 0;  // Multiplied by output.numel() at the end; 0 when fixed_macs.
  int64_t fixed_macs = 0;
};

std::string OwnerOf(const CountState& state, c10::ArrayRef<const c10::IValue> inputs) {
  for (const c10::IValue& input : inputs) {
    if (!input.isTensor()) continue;
    const torch::Tensor& t = input.toTensor();
    if (!t.defined() || !t.has_storage()) continue;
    auto it = state.parameter_owner.find(t.storage().data());
    if (it != state.parameter_owner.end()) return it->second;
  }
  return kOtherMatmuls;
}

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  CountState* state = active_count;
  if (state == nullptr || state->depth > 0) return nullptr;
  const OpRule* rule = FindRule(fn.name());
  if (rule == nullptr) return nullptr;
  const c10::ArrayRef<const c10::IValue> inputs = fn.inputs();
  auto op = std::make_unique<CountedOp>();
  switch (rule->formula) {
    case Formula::kConvolution: {
      const torch::Tensor& weight = TensorInput(inputs, 1, fn.name());
      const int64_t per_weight_row = weight.numel() / weight.size(0);
      if (IsTransposed(fn.name(), inputs)) {
        // Every input element meets one weight row: C_out / groups * kernel volume MACs.
        op->fixed_macs = TensorInput(inputs, 0, fn.name()).numel() * per_weight_row;
      } else {
        op->macs_per_output = per_weight_row;
      }
      break;
    }
    case Formula::kOutputTimesK:
      op->macs_per_output = TensorInput(inputs, rule->operand, fn.name()).size(-1);
      break;
    case Formula::kAddbmm:
      op->fixed_macs = TensorInput(inputs, 1, fn.name()).numel() *
                       TensorInput(inputs, 2, fn.name()).size(-1);
      break;
  }
  op->module = OwnerOf(*state, inputs);
  ++state->depth;
  return op;
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext* context) {
  CountState* state = active_count;
  if (context == nullptr || state == nullptr) return;
  --state->depth;
  const auto* op = static_cast<const CountedOp*>(context);
  const std::vector<c10::IValue>& outputs = fn.outputs();
  CHECK(!outputs.empty() && outputs[0].isTensor())
      << "FlopCounter: " << fn.name() << " returned no tensor";
  const torch::Tensor& output = outputs[0].toTensor();
  const int64_t flops = 2 * (op->fixed_macs + op->macs_per_output * output.numel());

  auto [it, inserted] = state->index.emplace(op->module, state->result.modules.size());
  if (inserted) {
    ModuleFlops entry;
    entry.module = op->module;
    entry.op = fn.name();
    entry.output_shape = output.sizes().vec();
    state->result.modules.push_back(std::move(entry));
  }
  ModuleFlops& entry = state->result.modules[it->second];
  entry.flops += flops;
  entry.calls += 1;
  state->result.total_flops += flops;
}

// Installs the callback for the lifetime of the object; removal also runs on exceptions.
class ScopedCount {
 public:
  explicit ScopedCount(CountState* state) {
    CHECK(active_count == nullptr) << "CountFlops is already running on this thread";
    active_count = state;
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(&OnStart, &OnEnd)
                                             .needsInputs(true)
                                             .needsOutputs(true)
                                             .scopes({at::RecordScope::FUNCTION}));
  }
  ~ScopedCount() {
    at::removeCallback(handle_);
    active_count = nullptr;
  }
  ScopedCount(const ScopedCount&) = delete;
  ScopedCount& operator=(const ScopedCount&) = delete;

 private:
  at::RecordFunctionGuard enable_{/*is_enabled=*/true};
  at::CallbackHandle handle_ = at::INVALID_CALLBACK_HANDLE;
};

}  // namespace

const ModuleFlops* FlopCount::Find(const std::string& module) const {
  for (const ModuleFlops& m : modules) {
    if (m.module == module) return &m;
  }
  return nullptr;
}

FlopCount CountFlops(const torch::nn::Module& module, const std::function<void()>& run) {
  CountState state;
  auto add_owner = [&state](const torch::nn::Module& owner, const std::string& path) {
    for (const auto& parameter : owner.named_parameters(/*recurse=*/false)) {
      const torch::Tensor& p = parameter.value();
      if (!p.defined() || !p.has_storage()) continue;
      state.parameter_owner.emplace(p.storage().data(), path);  // The first owner wins.
    }
  };
  // include_self=false: the root may live on the stack (named_modules would need a shared_ptr).
  add_owner(module, "");
  for (const auto& item : module.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    add_owner(*item.value(), item.key());
  }
  {
    ScopedCount scoped(&state);
    run();
  }
  CHECK_EQ(state.depth, 0) << "FlopCounter: unbalanced op callbacks";
  return std::move(state.result);
}

FlopCount CountForwardFlops(ImageClassifierImpl& model, const torch::Tensor& images,
                            torch::Tensor* logits) {
  const bool was_training = model.is_training();
  model.eval();
  torch::Tensor output;
  FlopCount count;
  try {
    torch::NoGradGuard no_grad;
    count = CountFlops(model, [&] { output = model.forward(images); });
  } catch (...) {
    model.train(was_training);
    throw;
  }
  model.train(was_training);
  if (logits != nullptr) *logits = output;
  return count;
}

}  // namespace robustness
