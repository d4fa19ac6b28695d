// The k-NN probe (suite/pretrain/knn_probe.hpp): the weighted vote on hand-made embeddings, and the probe folder's
// classes, split and errors.
#include <catch2/catch.hpp>

#include <opencv2/imgcodecs.hpp>

#include "suite/core/error.hpp"
#include "suite/pretrain/knn_probe.hpp"
#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

TEST_CASE("the weighted k-NN vote on hand-made embeddings gives the hand-computed classes", "[pretrain][knn]") {
  // bank: [1,0] class 0, [0,1] class 1, [0.6,0.8] class 1
  const auto bank = torch::tensor({1.0, 0.0, 0.0, 1.0, 0.6, 0.8}, torch::kFloat64).reshape({3, 2});
  const auto labels = torch::tensor({0, 1, 1}, torch::kInt64);
  const auto q = torch::tensor({1.0, 0.0, 0.8, 0.6}, torch::kFloat64).reshape({2, 2});
  // query [1,0], k 3: cos 1 (c0), 0 and 0.6 (c1). τ 0.1: e^10 = 22026 against e^0 + e^6 = 404 → class 0;
  // τ 100: e^0.01 = 1.010 against e^0 + e^0.006 = 2.006 → class 1 (two neighbours outvote one)
  CHECK(knn_predict(q.narrow(0, 0, 1), bank, labels, 2, 3, 0.1).item<int64_t>() == 0);
  CHECK(knn_predict(q.narrow(0, 0, 1), bank, labels, 2, 3, 100.0).item<int64_t>() == 1);
  // query [0.8,0.6]: the nearest is [0.6,0.8] (cos 0.96, class 1) → k 1 gives class 1
  CHECK(knn_predict(q.narrow(0, 1, 1), bank, labels, 2, 1, 0.1).item<int64_t>() == 1);
  // k larger than the bank is capped; unnormalised inputs are normalised
  CHECK(torch::equal(knn_predict(q * 7, bank * 3, labels, 2, 50, 0.1), knn_predict(q, bank, labels, 2, 3, 0.1)));
  // a tie goes to the lower class index
  const auto twin = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kFloat64).reshape({2, 2});
  CHECK(knn_predict(q.narrow(0, 0, 1), twin, torch::tensor({1, 0}, torch::kInt64), 2, 2, 0.1).item<int64_t>() == 0);
  CHECK_THROWS_WITH(knn_predict(q, bank, labels, 2, 0, 0.1), Catch::Contains("k 0 must be >= 1"));
}

TEST_CASE("the k-NN probe reads ROOT/<class>/<image>, splits each class and scores a perfect embedding 1", "[pretrain][knn]") {
  test::TempDir dir;
  const fs::path root = dir.path / "probe";
  // two classes of flat images: red and blue, four of each (three bank, one query at val_ratio 0.25)
  for (const auto& [name, colour] : {std::pair<std::string, cv::Scalar>{"blue", cv::Scalar(255, 0, 0)},
                                     std::pair<std::string, cv::Scalar>{"red", cv::Scalar(0, 0, 255)}}) {
    fs::create_directories(root / name);
    for (int i = 0; i < 4; ++i)
      REQUIRE(cv::imwrite((root / name / (std::to_string(i) + ".png")).string(),
                          cv::Mat(20, 30, CV_8UC3, colour + cv::Scalar(10 * i, 10 * i, 10 * i))));
  }
  KnnProbeOptions o;
  o.root = root;
  o.k = 3;
  o.image_size = 32;
  const KnnProbe probe(o);
  CHECK(probe.classes() == std::vector<std::string>{"blue", "red"});
  CHECK(probe.bank_size() == 6);
  CHECK(probe.query_size() == 2);
  CHECK(probe.chance() == 0.5);
  // the mean colour per channel separates the classes exactly
  CHECK(probe.accuracy([](const torch::Tensor& x) { return x.mean({2, 3}); }) == 1.0);
  // one class only: refused in one line
  fs::remove_all(root / "red");
  CHECK_THROWS_WITH(KnnProbe(o), Catch::Contains("the k-NN probe needs at least two class folders, found 1"));
}
