#include "robustness/attacks/square.h"

#include <string>

#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using attacks_internal::SmallConvNet;
using ::testing::HasSubstr;

TEST(SquareFraction, AutoAttacksScheduleOnTheRawIteration) {
  EXPECT_DOUBLE_EQ(SquareFraction(0, 0.8), 0.8);
  EXPECT_DOUBLE_EQ(SquareFraction(10, 0.8), 0.8);
  EXPECT_DOUBLE_EQ(SquareFraction(11, 0.8), 0.4);
  EXPECT_DOUBLE_EQ(SquareFraction(50, 0.8), 0.4);
  EXPECT_DOUBLE_EQ(SquareFraction(51, 0.8), 0.2);
  EXPECT_DOUBLE_EQ(SquareFraction(500, 0.8), 0.1);
  EXPECT_DOUBLE_EQ(SquareFraction(501, 0.8), 0.05);
  EXPECT_DOUBLE_EQ(SquareFraction(2000, 0.8), 0.025);
  EXPECT_DOUBLE_EQ(SquareFraction(4000, 0.8), 0.0125);
  EXPECT_DOUBLE_EQ(SquareFraction(4001, 0.8), 0.00625);
  EXPECT_DOUBLE_EQ(SquareFraction(4999, 0.8), 0.00625);
}

TEST(MarginLoss, CorrectLogitMinusTheBestOther) {
  const torch::Tensor logits = torch::tensor({{3.0f, 1.0f, 2.0f}, {0.0f, 5.0f, 4.0f}});
  const torch::Tensor m = MarginLoss(logits, torch::tensor({0, 2}, torch::kLong));
  EXPECT_FLOAT_EQ(m[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(m[1].item<float>(), -1.0f);
}

// Logits that ignore the image: never fooled, so every image spends the whole budget.
class Constant : public ImageClassifierImpl {
 public:
  torch::Tensor forward(const torch::Tensor& images) override {
    ++calls;
    return images.sum({1, 2, 3}).view({-1, 1}) * 0.0 +
           torch::tensor({1.0f, 0.0f, 0.0f}).view({1, 3});
  }
  int calls = 0;
};

TEST(SquareSingleRun, NeverFooledSpendsExactlyOnePlusTheBudget) {
  Constant model;
  torch::Generator gen = MakeCpuGenerator(1);
  const torch::Tensor x = torch::rand({5, 1, 6, 6}, gen);
  SquareOptions o;
  o.epsilon = 0.1;
  o.num_queries = 40;
  const SquareRunResult r = SquareSingleRun(model, x, torch::zeros({5}, torch::kLong), o, gen);
  EXPECT_TRUE(torch::equal(r.queries, torch::full({5}, 41, torch::kLong)));
  EXPECT_EQ(model.calls, 41);  // one batched query per iteration
}

class SquareToyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_.eval();
    labels_ = model_.forward(images_).argmax(1).detach();
  }
  SmallConvNet model_{/*channels=*/3, /*image_size=*/8, /*num_classes=*/4, /*seed=*/6};
  torch::Generator gen_ = MakeCpuGenerator(6);
  torch::Tensor images_ = torch::rand({32, 3, 8, 8}, gen_);
  torch::Tensor labels_;
};

TEST_F(SquareToyTest, ResultsAreBallVerticesCutByTheBoxWithinTheBudget) {
  SquareOptions o;
  o.epsilon = 0.05;
  o.num_queries = 300;
  const SquareRunResult r = SquareSingleRun(model_, images_, labels_, o, gen_);
  EXPECT_LE(r.queries.max().item<int64_t>(), 301);
  EXPECT_GE(r.queries.min().item<int64_t>(), 1);
  const torch::Tensor up = (images_ + o.epsilon).clamp(0, 1);
  const torch::Tensor down = (images_ - o.epsilon).clamp(0, 1);
  // Up to float rounding: (x - eps) + 2 eps may land an ulp off x + eps, as in the reference.
  const torch::Tensor at_vertex =
      (r.x_best - up).abs().le(1e-6).logical_or((r.x_best - down).abs().le(1e-6));
  EXPECT_TRUE(at_vertex.all().item<bool>());
  EXPECT_GT(r.x_best.ne(images_).sum().item<int64_t>(), 0);
  // The margins reported are the model's on the returned points.
  EXPECT_TRUE(torch::allclose(r.margin, MarginLoss(model_.forward(r.x_best), labels_), 1e-5,
                              1e-5));
  // Images whose margin fell to 0 or below stopped early.
  const torch::Tensor fooled = r.margin.le(0);
  ASSERT_TRUE(fooled.any().item<bool>()) << "nothing fooled: the test says nothing";
  EXPECT_TRUE(r.queries.index({fooled.logical_not()}).eq(301).all().item<bool>());
}

TEST_F(SquareToyTest, PerturbFoolsOnlyWhatAFreshForwardConfirmsAndIsDeterministic) {
  SquareOptions o;
  o.epsilon = 0.05;
  o.num_queries = 200;
  Square square("Square", o);
  torch::Generator a = MakeCpuGenerator(2), b = MakeCpuGenerator(2);
  const torch::Tensor x = square.Perturb(model_, images_, labels_, a);
  EXPECT_TRUE(torch::equal(x, square.Perturb(model_, images_, labels_, b)));
  EXPECT_LE((x - images_).abs().max().item<float>(), 0.05f + 1e-6f);
  const torch::Tensor changed = (x - images_).flatten(1).abs().amax(1).gt(0);
  const torch::Tensor wrong = model_.forward(x).argmax(1).ne(labels_);
  EXPECT_TRUE(torch::equal(changed, wrong));
}

TEST(SquareL2Eta, UnitNormTopPositiveBottomNegativeOrTransposed) {
  torch::Generator gen = MakeCpuGenerator(4);
  int transposed = 0;
  for (int trial = 0; trial < 20; ++trial) {
    for (int64_t s : {1, 3, 5, 7, 28}) {
      const torch::Tensor eta = SquareL2Eta(s, gen);
      ASSERT_EQ(eta.sizes(), at::IntArrayRef({s, s}));
      EXPECT_NEAR(eta.pow(2).sum().item<float>(), 1.0f, 1e-5);
      // Even sides: the two halves are the same rectangle with opposite signs.
      if (s % 2 == 0) {
        EXPECT_NEAR(eta.sum().item<float>(), 0.0f, 1e-5) << s;
      }
      if (s < 3) continue;
      // Rows 0 .. s/2 - 1 positive and the rest negative, or the same by columns.
      const bool by_rows = eta[0][s - 1].item<float>() > 0 && eta[s - 1][0].item<float>() < 0;
      const torch::Tensor e = by_rows ? eta : eta.t();
      transposed += !by_rows;
      EXPECT_TRUE(e.narrow(0, 0, s / 2).gt(0).all().item<bool>()) << s;
      EXPECT_TRUE(e.narrow(0, s / 2, s - s / 2).lt(0).all().item<bool>()) << s;
    }
  }
  EXPECT_GT(transposed, 10);  // the coin is fair-ish: 80 draws
  EXPECT_LT(transposed, 70);
}

TEST_F(SquareToyTest, L2StaysInsideTheBallAndTheBudgetAndFoolsSome) {
  SquareOptions o;
  o.epsilon = 0.5;
  o.num_queries = 200;
  o.norm = LpNorm::kL2;
  const SquareRunResult r = SquareSingleRun(model_, images_, labels_, o, gen_);
  EXPECT_LE(r.queries.max().item<int64_t>(), 201);
  const torch::Tensor norms = (r.x_best - images_).flatten(1).norm(2, 1);
  EXPECT_LE(norms.max().item<float>(), 0.5f * (1 + 1e-5f));
  EXPECT_GE(r.x_best.min().item<float>(), 0.0f);
  EXPECT_LE(r.x_best.max().item<float>(), 1.0f);
  EXPECT_TRUE(r.margin.le(0).any().item<bool>()) << "nothing fooled: the test says nothing";
  EXPECT_TRUE(torch::allclose(r.margin, MarginLoss(model_.forward(r.x_best), labels_), 1e-5,
                              1e-5));
  Square square("Square-L2", o);
  torch::Generator a = MakeCpuGenerator(2), b = MakeCpuGenerator(2);
  EXPECT_TRUE(torch::equal(square.Perturb(model_, images_, labels_, a),
                           square.Perturb(model_, images_, labels_, b)));
}

TEST(ValidateSquareConfig, NamesTheFieldAndValue) {
  auto check = [](const std::string& text) {
    return ValidateSquareConfig(ParseTextProtoOrDie<proto::SquareConfig>(text), "attack.square");
  };
  EXPECT_THAT(check("norm: LINF num_queries: 5000 p_init: 0.8 restarts: 1"), IsOk());
  EXPECT_THAT(check("norm: L2 num_queries: 5000 p_init: 0.8 restarts: 1"), IsOk());
  EXPECT_THAT(check("num_queries: 5000 p_init: 0.8 restarts: 1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.square.norm: must be LINF or L2, got NORM_UNSPECIFIED")));
  EXPECT_THAT(check("norm: LINF num_queries: 0 p_init: 0.8 restarts: 1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.square.num_queries: must be >= 1, got 0")));
  EXPECT_THAT(check("norm: LINF num_queries: 10 p_init: 1.5 restarts: 1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.square.p_init: must be in (0, 1], got 1.5")));
  EXPECT_THAT(check("norm: LINF num_queries: 10 restarts: 1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.square.p_init: must be set")));
}

}  // namespace
}  // namespace robustness
