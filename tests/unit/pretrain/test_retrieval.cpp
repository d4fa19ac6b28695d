// Retrieval diagnostic on crafted embeddings with known ranks.
#include <catch2/catch.hpp>

#include "suite/pretrain/retrieval.hpp"

using namespace clcp;

TEST_CASE("perfectly aligned pairs retrieve at rank 1 in both directions", "[pretrain]") {
  const auto e = torch::eye(6);
  const auto m = retrieval_metrics(e, e * 3, {1, 5});
  CHECK(m.gallery == 6);
  CHECK(m.image_to_lidar.recall == std::vector<double>{1.0, 1.0});
  CHECK(m.lidar_to_image.mean_rank == 1.0);
  CHECK(m.to_json()["chance"]["R@5"].get<double>() == Approx(5.0 / 6));
  CHECK(m.to_json()["chance"]["mean_rank"].get<double>() == 3.5);
}

TEST_CASE("reversed pairs put every positive behind exactly one gallery item except the fixed middle", "[pretrain]") {
  // lidar i = image (N−1−i): the positive scores 0 and one item scores 1 → rank 2, except i = 2 of N = 5.
  const auto img = torch::eye(5);
  const auto lid = img.flip(0);
  const auto m = retrieval_metrics(img, lid, {1, 2});
  CHECK(m.image_to_lidar.recall[0] == Approx(0.2));
  CHECK(m.image_to_lidar.recall[1] == 1.0);
  CHECK(m.image_to_lidar.mean_rank == Approx(1.8));
  CHECK(m.image_to_lidar.median_rank == 2.0);
}

TEST_CASE("a permutation's fixed points are its rank-1 retrievals", "[pretrain]") {
  // lidar i = image perm[i] with perm = (0 3 2 5 1 4 6 7): fixed points 0, 2, 6, 7 → R@1 = 4/8, others rank 2.
  const std::vector<int64_t> perm{0, 3, 2, 5, 1, 4, 6, 7};
  const auto img = torch::eye(8);
  const auto lid = img.index_select(0, torch::tensor(perm));
  const auto m = retrieval_metrics(img, lid, {1, 10});
  CHECK(m.image_to_lidar.recall[0] == 0.5);
  CHECK(m.lidar_to_image.recall[0] == 0.5);
  CHECK(m.image_to_lidar.recall[1] == 1.0);
  CHECK(m.image_to_lidar.mean_rank == Approx(1.5));
  CHECK(m.to_json()["chance"]["R@10"].get<double>() == 1.0);
}
