// Pretraining protocols with methods and command-line overrides (issue 16): CLCP's files keep their fingerprints
// (the committed exact baseline's), an image-only method's protocol reads its own keys, and --set overrides are
// checked as the file is and change the fingerprint.
#include <catch2/catch.hpp>

#include <filesystem>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/protocol/overrides.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "suite/protocol/protocol.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;
using namespace clcp;

namespace {
std::string pp_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("clcp_a2d2 keeps the fingerprint its committed exact baseline was recorded with", "[protocol]") {
  const auto baseline = read_json(fs::path(CLCP_SOURCE_DIR) / "baselines/regression/clcp_a2d2-ci/baseline.json");
  const PretrainProtocol p = load_pretrain_protocol("clcp_a2d2", "ci");
  CHECK(p.method == "clcp");
  CHECK(p.fingerprint() == baseline["fingerprint"].get<std::string>());
  CHECK_FALSE(p.recipe_json().contains("method"));
}

TEST_CASE("simclr_a2d2 reads an image-only layout with its method_config in the recipe", "[protocol]") {
  const PretrainProtocol p = load_pretrain_protocol("simclr_a2d2", "smoke");
  CHECK(p.method == "simclr");
  CHECK(p.batch_size == 16);
  CHECK(p.image_init == "random");
  CHECK(p.lidar_init == "random");
  CHECK(p.method_config["projector"]["hidden"] == 512);  // deep-merged by the scale
  CHECK(p.method_config["projector"]["out"] == 128);
  CHECK(p.method_config["temperature"] == 0.5);
  const auto r = p.recipe_json();
  CHECK(r["method"] == "simclr");
  CHECK(r["method_config"] == p.method_config);
  CHECK_FALSE(r.contains("retrieval"));
  CHECK_FALSE(r["data"].contains("reflectance"));
  CHECK(p.to_json()["inits"] == nlohmann::json{{"image", "random"}});
}

TEST_CASE("overrides given with --set win over the scale, are checked as the file is and change the fingerprint", "[protocol]") {
  const PretrainProtocol base = load_pretrain_protocol("simclr_a2d2", "ci");
  const PretrainProtocol hot =
      load_pretrain_protocol("simclr_a2d2", "ci", {parse_override("method_config.temperature=0.2")});
  CHECK(hot.method_config["temperature"] == 0.2);
  CHECK(hot.fingerprint() != base.fingerprint());
  CHECK(hot.to_json()["set"] == nlohmann::json::array({"method_config.temperature=0.2"}));
  // a bare word is a string; JSON is JSON
  CHECK(parse_override("model.head=mlp").second == "mlp");
  CHECK(parse_override("optimizer.betas=[0.9,0.999]").second == nlohmann::json::array({0.9, 0.999}));
  const PretrainProtocol clcp = load_pretrain_protocol("clcp_a2d2", "ci", {parse_override("model.head=mlp")});
  CHECK(clcp.head == "mlp");
  CHECK(clcp.variant_name() == "b4-mlp");
  // errors as in a file: an unknown key (listing the known ones), a wrong type, a value out of range, the scales
  CHECK_THAT(pp_error([] { load_pretrain_protocol("clcp_a2d2", "ci", {parse_override("model.hed=mlp")}); }),
             Catch::Contains("--set model.hed: unknown key 'model.hed' (known there: "));
  CHECK_THAT(pp_error([] { load_pretrain_protocol("clcp_a2d2", "ci", {parse_override("train.epochs=\"4\"")}); }),
             Catch::Contains("train.epochs"));
  CHECK_THAT(pp_error([] { load_pretrain_protocol("clcp_a2d2", "ci", {parse_override("model.head=big")}); }),
             Catch::Contains("key 'model.head' must be \"linear\" or \"mlp\""));
  CHECK_THAT(pp_error([] { load_pretrain_protocol("clcp_a2d2", "ci", {parse_override("scales.ci.description=x")}); }),
             Catch::Contains("the schema and the scales cannot be overridden"));
  CHECK_THAT(pp_error([] { parse_override("novalue"); }), Catch::Contains("--set novalue: expected KEY=VALUE"));
  // a CLCP key in an image-only protocol is an unknown key
  CHECK_THAT(pp_error([] { load_pretrain_protocol("simclr_a2d2", "ci", {parse_override("model.head=mlp")}); }),
             Catch::Contains("unknown key 'model.head'"));
}

TEST_CASE("a finetune protocol takes --set overrides too, lists them in its plan record and changes its fingerprint",
          "[protocol]") {
  const Protocol base = load_protocol("dg_acdc", "ci");
  const Protocol more = load_protocol("dg_acdc", "ci", {parse_override("train.max_iters=24")});
  CHECK(more.max_iters == 24);
  CHECK(more.fingerprint() != base.fingerprint());
  CHECK(more.to_json()["set"] == nlohmann::json::array({"train.max_iters=24"}));
  CHECK_FALSE(base.to_json().contains("set"));
  CHECK_THAT(pp_error([] { load_protocol("dg_acdc", "ci", {parse_override("train.max_iter=24")}); }),
             Catch::Contains("--set train.max_iter: unknown key 'train.max_iter' (known there: "));
}
