#include <catch2/catch.hpp>
#include <cmath>
#include <torch/torch.h>

#include "suite/core/error.hpp"
#include "suite/train/loss.hpp"
#include "suite/train/poly_lr.hpp"

using namespace clcp;

TEST_CASE("poly lr follows mmengine PolyLR with total = max_iters - 1", "[train]") {
  auto lr = [](int64_t t) { return poly_lr(t, 80000, 0.01, 1e-4, 0.9); };
  CHECK(lr(0) == 0.01);
  // 1e-4 + 0.0099 * (1 - 1/79999)^0.9
  CHECK(lr(1) == Approx(0.009999888623538183).epsilon(1e-13));
  // 1e-4 + 0.0099 * (1 - 40000/79999)^0.9
  CHECK(lr(40000) == Approx(0.0054052189543865896).epsilon(1e-13));
  CHECK(lr(79999) == Approx(1e-4).epsilon(1e-13));
  CHECK(lr(80000) == Approx(1e-4).epsilon(1e-13));  // clamped past the end
  CHECK(poly_lr(0, 1, 0.01, 1e-4, 0.9) == 0.01);     // a one-iteration run never decays
  CHECK_THROWS_AS(poly_lr(0, 0, 0.01, 1e-4, 0.9), UserError);
}

TEST_CASE("cross-entropy divides the sum by all pixels, ignored ones included", "[train]") {
  // logits [1,2,2,2]: per pixel (class0, class1)
  auto logits = torch::tensor({0.0f, 1.0f, 0.0f, 5.0f,     // class 0 at (0,0) (0,1) (1,0) (1,1)
                               0.5f, 0.0f, 2.0f, -3.0f})  // class 1
                    .reshape({1, 2, 2, 2});
  auto labels = torch::tensor({1, 0, 0, 255}, torch::kInt64).reshape({1, 2, 2});
  // (0,0): ln(1+e^-0.5); (0,1): ln(1+e^-1); (1,0): ln(1+e^2); (1,1) ignored → sum / 4, not / 3.
  const double expected = (std::log1p(std::exp(-0.5)) + std::log1p(std::exp(-1.0)) + std::log1p(std::exp(2.0))) / 4;
  CHECK(expected == Approx(0.7285666706853255).epsilon(1e-12));
  const auto loss = seg_cross_entropy(logits, labels);
  CHECK(loss.dim() == 0);
  CHECK(loss.item<double>() == Approx(expected).epsilon(1e-6));
  // acc_seg: (0,0) right, (0,1) right, (1,0) wrong, (1,1) ignored → 2/3.
  CHECK(pixel_accuracy(logits, labels) == Approx(200.0 / 3.0));
}

TEST_CASE("cross-entropy upsamples logits bilinearly to the label size first", "[train]") {
  // Constant logits (0, 1) on a 1×1 grid upsample to the same constants on 4×4; 15 pixels of class 0, one ignored.
  auto logits = torch::tensor({0.0f, 1.0f}).reshape({1, 2, 1, 1});
  auto labels = torch::zeros({1, 4, 4}, torch::kInt64);
  labels[0][3][3] = 255;
  CHECK(seg_cross_entropy(logits, labels).item<double>() == Approx(std::log1p(std::exp(1.0)) * 15 / 16).epsilon(1e-6));
  CHECK(pixel_accuracy(logits, labels) == 0.0);
  // Gradient flows back to the 1×1 logits.
  auto l = logits.clone().requires_grad_(true);
  seg_cross_entropy(l, labels).backward();
  CHECK(l.grad().defined());
}

TEST_CASE("cross-entropy rejects labels outside the class range", "[train]") {
  auto logits = torch::zeros({1, 2, 2, 2});
  auto labels = torch::tensor({0, 1, 2, 255}, torch::kInt64).reshape({1, 2, 2});
  CHECK_THROWS_AS(seg_cross_entropy(logits, labels), UserError);
  CHECK_THROWS_AS(seg_cross_entropy(logits, labels.to(torch::kInt32)), UserError);
}
