// Thesis tables as data: exact values, strict keys.
#include <catch2/catch.hpp>
#include <fstream>

#include "stats_fixtures.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/stats/baselines.hpp"

using namespace clcp;
using namespace clcp::stats;
namespace fs = std::filesystem;

TEST_CASE("Table 4.1 loads with all 13 rows and the thesis numbers") {
  const Baseline b = load_baseline("thesis-table-4.1");
  CHECK(b.name == "thesis-table-4.1");
  CHECK(b.source == "Golombiewski 2024, Table 4.1");
  REQUIRE(b.rows.size() == 13);
  const auto* timm = b.find("timm-ViT-S");
  REQUIRE(timm);
  CHECK(timm->miou_cityscapes == 68.01);
  CHECK(timm->miou_acdc == 37.93);
  CHECK(timm->rpd == 0.56);
  CHECK(timm->finetune_mode == "full");
  CHECK(timm->row == 1);
  CHECK(timm->source == "Golombiewski 2024, Table 4.1");
  CHECK(timm->notes.front().rfind("single run, no seed", 0) == 0);
  const auto* fb = b.find("timm-ViT-S (fb)");
  REQUIRE(fb);
  CHECK(fb->finetune_mode == "frozen");
  CHECK(fb->miou_acdc == 40.00);
  const auto* b256 = b.find("CLCP (Lin) b256");
  REQUIRE(b256);
  CHECK(b256->miou_cityscapes == 68.76);
  bool anomaly = false;
  for (const auto& n : b256->notes) anomaly |= n.find("b768") != std::string::npos;
  CHECK(anomaly);
  const auto* last = b.find("CLCP (Lin) b768 (fb)");
  REQUIRE(last);
  CHECK(last->row == 13);
  CHECK(last->miou_cityscapes == 49.82);
  CHECK(last->miou_acdc == 33.04);
  CHECK(last->rpd == 0.66);
}

TEST_CASE("Table 4.3 loads with all 11 rows and the thesis numbers") {
  const Baseline b = load_baseline("thesis-table-4.3");
  REQUIRE(b.rows.size() == 11);
  const auto* r = b.find("Ep19 (Lin)");
  REQUIRE(r);
  CHECK(r->miou_cityscapes == 63.52);
  CHECK(r->miou_acdc == 33.48);
  CHECK(r->rpd == 0.48);
  CHECK(r->table == "4.3");
  const auto* m = b.find("Ep67 (MLP)");
  REQUIRE(m);
  CHECK(m->miou_cityscapes == 58.38);
  CHECK(m->miou_acdc == 28.70);
  CHECK(m->rpd == 0.49);
  for (const auto& row : b.rows) CHECK(row.finetune_mode == "full");  // fb in 4.3 is about pretraining
}

TEST_CASE("a baseline file with an unknown or missing key is refused naming the key") {
  const fs::path dir = clcp::test::fresh_dir("baseline");
  auto j = read_json(baselines_dir() / "thesis-table-4.1.json");
  j["rows"][0]["mIoU"] = 1;
  write_json_atomic(dir / "extra.json", j);
  CHECK_THROWS_WITH(load_baseline_file(dir / "extra.json"), Catch::Contains("rows[0]") && Catch::Contains("\"mIoU\""));
  j["rows"][0].erase("mIoU");
  j["rows"][0].erase("rpd");
  write_json_atomic(dir / "missing.json", j);
  CHECK_THROWS_WITH(load_baseline_file(dir / "missing.json"), Catch::Contains("missing key \"rpd\""));
  CHECK_THROWS_WITH(load_baseline("no-such-table"), Catch::Contains("no-such-table.json"));
  fs::remove_all(dir);
}
