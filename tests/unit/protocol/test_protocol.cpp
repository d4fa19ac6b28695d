#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/protocol/protocol.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;
using clcp::load_protocol;

namespace {
// Writes a modified copy of dg_acdc.json into a temp protocols dir and returns its path.
fs::path variant(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
  auto j = clcp::read_json(fs::path(CLCP_SOURCE_DIR) / "protocols/dg_acdc.json");
  edit(j);
  const fs::path p = fs::temp_directory_path() / "clcp_protocol_test" / (name + ".json");
  clcp::write_json_atomic(p, j);
  return p;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const clcp::UserError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("the full scale of dg_acdc is the thesis recipe") {
  const auto p = load_protocol("dg_acdc", "full");
  CHECK(p.lr == 0.01);
  CHECK(p.momentum == 0.9);
  CHECK(p.weight_decay == 0.0);
  CHECK(p.eta_min == 1e-4);
  CHECK(p.poly_power == 0.9);
  CHECK(p.max_iters == 80000);
  CHECK(p.batch_size == 8);
  CHECK(p.pipeline.resize_scale == std::array<int64_t, 2>{2048, 1024});
  CHECK(p.pipeline.cat_max_ratio == 0.75);
  CHECK(p.inference.stride == std::array<int64_t, 2>{168, 168});
  CHECK(p.target_conditions == std::vector<std::string>{"fog", "night", "rain", "snow"});
}

TEST_CASE("the smoke scale shrinks iterations and sizes but keeps the recipe structure") {
  const auto full = load_protocol("dg_acdc", "full");
  const auto smoke = load_protocol("dg_acdc", "smoke");
  CHECK(smoke.max_iters < full.max_iters);
  CHECK(smoke.pipeline.resize_scale == std::array<int64_t, 2>{512, 256});
  CHECK(smoke.inference.resize_scale == std::array<int64_t, 2>{512, 256});
  CHECK(smoke.pipeline.crop == full.pipeline.crop);
  CHECK(smoke.lr == full.lr);
  // random against CLCP pretrained on the embedded pairs (clcp_a2d2 smoke), at two epochs, backbone frozen.
  CHECK(smoke.inits == std::vector<std::string>{"random", "clcp-b16-lin@ep3", "clcp-b16-lin@ep7", "simclr-b16@ep7",
                                                "supervised-b16@ep7", "clcp-b16-lin-shuf@ep7"});
  // ... with a positive and a negative control that say whether the scale can tell encoders apart.
  CHECK(smoke.positive_controls == std::vector<std::string>{"supervised-b16@ep7"});
  CHECK(smoke.negative_controls == std::vector<std::string>{"clcp-b16-lin-shuf@ep7"});
  CHECK(smoke.to_json().at("controls").at("positive") == nlohmann::json{"supervised-b16@ep7"});
  CHECK(smoke.finetune_modes == std::vector<std::string>{"frozen"});
  CHECK(smoke.fingerprint() != full.fingerprint());
}

TEST_CASE("the fingerprint ignores the grid but not the recipe") {
  auto a = load_protocol("dg_acdc", "smoke");
  auto b = a;
  b.seeds = {1, 2, 3};
  b.inits = {"imagenet"};
  CHECK(a.fingerprint() == b.fingerprint());
  b.lr = 0.02;
  CHECK(a.fingerprint() != b.fingerprint());
  CHECK(a.fingerprint().size() == 16);
}

TEST_CASE("a control init that is not one of the scale's inits is refused in one line, and controls are not recipe") {
  const auto p = variant("ctrl", [](auto& j) {
    j["scales"]["smoke"]["overrides"]["controls"]["positive"] = {"supervised-b16@ep9"};
  });
  const auto msg = error_of([&] { load_protocol(p.string(), "smoke"); });
  CHECK(msg.find("controls.positive") != std::string::npos);
  CHECK(msg.find("'supervised-b16@ep9'") != std::string::npos);
  CHECK(msg.find("not one of this scale's inits") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
  // Dropping the controls leaves the fingerprint (and so every cell id) as it was.
  const auto q = variant("noctrl", [](auto& j) { j["scales"]["smoke"]["overrides"].erase("controls"); });
  CHECK(load_protocol(q.string(), "smoke").fingerprint() == load_protocol("dg_acdc", "smoke").fingerprint());
}

TEST_CASE("img_size is a multiple of the patch, and the crops must equal it") {
  const auto ok = variant("img128", [](auto& j) {
    j["model"]["img_size"] = 128;
    j["pipeline"]["crop"] = {128, 128};
    j["inference"]["crop"] = {128, 128};
  });
  CHECK(load_protocol(ok.string(), "full").img_size == 128);
  const auto odd = variant("img100", [](auto& j) { j["model"]["img_size"] = 100; });
  CHECK(error_of([&] { load_protocol(odd.string(), "full"); }).find("'model.img_size' must be a multiple of 16") !=
        std::string::npos);
  const auto crop = variant("img128crop", [](auto& j) { j["model"]["img_size"] = 128; });
  CHECK(error_of([&] { load_protocol(crop.string(), "full"); }).find("must equal the model's img_size (128x128)") !=
        std::string::npos);
}

TEST_CASE("an unknown top-level key is an error naming the key and the file") {
  const auto p = variant("typo", [](auto& j) { j["optimiser"] = 1; });
  const auto msg = error_of([&] { load_protocol(p.string(), "full"); });
  CHECK(msg.find("unknown key 'optimiser'") != std::string::npos);
  CHECK(msg.find("typo.json") != std::string::npos);
}

TEST_CASE("an unknown nested key is an error naming its full path") {
  const auto p = variant("nested", [](auto& j) { j["train"]["max_iter"] = 5; });
  CHECK(error_of([&] { load_protocol(p.string(), "full"); }).find("'train.max_iter'") != std::string::npos);
}

TEST_CASE("a scale override of a key the protocol does not have is an error") {
  const auto p = variant("override", [](auto& j) { j["scales"]["smoke"]["overrides"]["train"]["iters"] = 5; });
  CHECK(error_of([&] { load_protocol(p.string(), "smoke"); }).find("scales.smoke.overrides.train.iters") !=
        std::string::npos);
}

TEST_CASE("an unknown protocol or scale names what exists") {
  CHECK(error_of([] { load_protocol("nope", "full"); })
            .find("known protocols: byol_a2d2, clcp_a2d2, dg_acdc, dg_acdc_clcp, disiam_a2d2, simclr_a2d2, "
                  "simsiam_a2d2, supervised_a2d2") != std::string::npos);
  CHECK(error_of([] { load_protocol("dg_acdc", "huge"); }).find("ci, full, smoke") != std::string::npos);
}

TEST_CASE("a value of the wrong type is an error naming the key") {
  const auto p = variant("type", [](auto& j) { j["optimizer"]["lr"] = "fast"; });
  CHECK(error_of([&] { load_protocol(p.string(), "full"); }).find("'optimizer.lr' must be a number") !=
        std::string::npos);
}

TEST_CASE("the report key names the baseline and the published stand-ins and is in no fingerprint") {
  const auto smoke = load_protocol("dg_acdc_clcp", "smoke");
  CHECK(smoke.report.at("baseline") == "thesis-table-4.3");
  CHECK(smoke.report.at("published_rows").size() == smoke.inits.size());
  CHECK(smoke.report.at("published_rows").at("clcp-b16-lin-fb@ep3") == "Ep19 (Lin, fb)");
  CHECK(smoke.report.at("published_rows").at("clcp-b16-mlp@ep7") == "Ep67 (MLP)");
  CHECK(smoke.to_json().at("report") == smoke.report);  // the plan file keeps it for `clcp-bench report`
  // full: the baseline alone (its b256 labels match the published rows); ci: no report settings at all.
  CHECK(load_protocol("dg_acdc_clcp", "full").report.at("published_rows").empty());
  CHECK(load_protocol("dg_acdc_clcp", "full").report.at("baseline") == "thesis-table-4.3");
  const auto ci = load_protocol("dg_acdc_clcp", "ci");
  CHECK(ci.report.is_null());
  CHECK_FALSE(ci.to_json().contains("report"));
  auto without = smoke;
  without.report = nullptr;
  CHECK(without.fingerprint() == smoke.fingerprint());
  // A stand-in for an init the protocol does not run is refused with the key.
  const auto bad = variant("stand_in", [](auto& j) {
    j["report"] = {{"baseline", "thesis-table-4.1"}, {"published_rows", {{"clcp@ep3", "Ep19 (Lin)"}}}};
  });
  CHECK(error_of([&] { load_protocol(bad.string(), "full"); })
            .find("key 'report.published_rows.clcp@ep3' must name one of the protocol's inits") != std::string::npos);
}
