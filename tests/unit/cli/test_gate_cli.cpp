// `clcp-bench gate` as CI and a user run it. The first test is the CI exact tier itself: the ci scale of dg_acdc on
// the embedded data against baselines/regression/dg_acdc-ci.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fmt/format.h>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;
using clcp::test::run_cli;

namespace {
const fs::path kBaselines = fs::path(CLCP_SOURCE_DIR) / "baselines" / "regression";

// The one cell of the fresh run in the gate's work folder.
fs::path fresh_cell(const fs::path& work) {
  for (const auto& e : fs::directory_iterator(work / "results/dg_acdc"))
    if (fs::exists(e.path() / "spec.json")) return e.path();
  FAIL("no bundle under " << work);
  return {};
}

// A finished bundle of the stat tier's shape: only the numbers matter.
void stat_bundle(const fs::path& dir, int64_t seed, double src, double tgt, const std::string& fp = "fp1") {
  clcp::write_json_atomic(dir / "spec.json", {{"protocol", "dg_acdc"}, {"scale", "smoke"}, {"fingerprint", fp},
                                              {"init", "random"}, {"init_sha256", ""}, {"finetune_mode", "full"},
                                              {"seed", seed}, {"datasets", nlohmann::json::object()}});
  clcp::write_json_atomic(dir / "status.json", {{"state", "done"}});
  clcp::write_json_atomic(dir / "provenance.json", {{"git_commit", "abc"}, {"threads", 2}});
  clcp::write_json_atomic(dir / "metrics.json",
                          {{"source", {{"mIoU", src}}},
                           {"target", {{"pooled", {{"mIoU", tgt}}}, {"per_condition", {{"fog", {{"mIoU", tgt + 0.02}}}}}}},
                           {"rPD", tgt / src}});
  clcp::write_atomic(dir / "train_log.jsonl", "{\"iter\":1}\n");
  clcp::write_atomic(dir / "evidence/cityscapes_val.jsonl", "");
}
}  // namespace

TEST_CASE("the exact gate passes against the committed baselines on any CPU, and is identical to its own recording") {
  const fs::path work = fs::temp_directory_path() / "clcp_gate_cli";
  fs::remove_all(work);  // a bundle of an earlier build's fixture would be taken for this run's cell
  // 1. CI's gate: the committed baselines. They were recorded on one CPU kind; on the same kernel path every byte
  //    must match, on another one (another vendor or ISA) the baseline's tolerance applies. Either way: PASS.
  std::vector<std::string> names;  // every committed exact baseline: dg_acdc-ci and one per pretraining method's ci
  for (const auto& e : fs::directory_iterator(kBaselines))
    if (fs::exists(e.path() / "baseline.json")) names.push_back(e.path().filename().string());
  REQUIRE(names.size() >= 3);
  const std::string all = fmt::format("{} of {} baselines", names.size(), names.size());
  const auto pass = run_cli("gate --tier exact --work " + work.string());
  INFO(pass.output);
  REQUIRE(pass.exit_code == 0);
  for (const auto& name : names) {
    const bool same = pass.output.find(fmt::format("PASS: 1 cell(s) identical to baseline {}", name)) != std::string::npos;
    const bool tolerated =
        pass.output.find(fmt::format("PASS: 1 cell(s) within the tolerance of baseline {}", name)) != std::string::npos;
    INFO("baseline " << name);
    CHECK((same || tolerated));
  }
  CHECK(pass.output.find("gate exact: " + all + " pass") != std::string::npos);

  // 2. This build records its own baselines from the run above (--reuse: nothing is trained again) …
  const fs::path copy = fs::temp_directory_path() / "clcp_gate_cli_baselines";
  fs::remove_all(copy);
  fs::create_directories(copy);
  for (const auto& name : names) fs::copy(kBaselines / name, copy / name, fs::copy_options::recursive);
  const std::string reuse = "gate --tier exact --reuse --work " + work.string() + " --baselines-dir " + copy.string();
  const auto rec = run_cli(reuse + " --update");
  INFO(rec.output);
  REQUIRE(rec.exit_code == 0);
  CHECK(rec.output.find("gate exact: " + all + " rewritten") != std::string::npos);
  // … and must then be identical to them, byte for byte, on the same kernel path.
  const auto self = run_cli(reuse);
  INFO(self.output);
  REQUIRE(self.exit_code == 0);
  CHECK(self.output.find("gate exact: kernel path is the baseline's") != std::string::npos);
  for (const auto& name : names)
    CHECK(self.output.find("PASS: 1 cell(s) identical to baseline " + name + "\n") != std::string::npos);
  CHECK(self.output.find("gate exact: " + all + " pass") != std::string::npos);
  for (const auto& name : names)  // the rest is about the finetune grid only
    if (name != "dg_acdc-ci") fs::remove_all(copy / name);

  // The cross-CPU fallback: the same bytes, recorded (as far as the baseline says) on another vendor's CPU. The gate
  // names the difference and still calls identical bytes identical.
  auto meta = clcp::read_json(copy / "dg_acdc-ci/baseline.json");
  const fs::path cell = fresh_cell(work);
  const nlohmann::json own_kp = clcp::read_json(cell / "provenance.json")["kernel_path"];
  CHECK(meta["provenance"]["kernel_path"] == own_kp);  // --update recorded this run's kernel path
  meta["provenance"]["kernel_path"]["cpu_vendor"] = own_kp.value("cpu_vendor", "") == "GenuineIntel" ? "AuthenticAMD"
                                                                                                    : "GenuineIntel";
  clcp::write_json_atomic(copy / "dg_acdc-ci/baseline.json", meta);
  const auto vendor = run_cli(reuse);
  INFO(vendor.output);
  CHECK(vendor.exit_code == 0);
  CHECK(vendor.output.find("gate exact: kernel path differs from the baseline's (") != std::string::npos);
  CHECK(vendor.output.find("falling back to the baseline's tolerance") != std::string::npos);
  CHECK(vendor.output.find("PASS: 1 cell(s) identical to baseline dg_acdc-ci (although the kernel path differs)") !=
        std::string::npos);

  // Back on this run's kernel path, with one golden count changed: the gate must fail and say where.
  meta["provenance"]["kernel_path"] = own_kp;
  clcp::write_json_atomic(copy / "dg_acdc-ci/baseline.json", meta);
  const fs::path ev = copy / "dg_acdc-ci" / cell.filename() / "evidence/acdc_val.jsonl";
  std::string text = clcp::read_file(ev);
  const std::string first = text.substr(0, text.find('\n'));
  auto line = nlohmann::json::parse(first);
  for (int c = 0; c < 19; ++c)
    if (line["label_area"][c].get<int64_t>() > 10) {  // one more pixel of class c predicted correctly
      line["intersect"][c] = line["intersect"][c].get<int64_t>() + 1;
      line["pred_area"][c] = line["pred_area"][c].get<int64_t>() + 1;
      break;
    }
  clcp::write_atomic(ev, line.dump() + text.substr(first.size()));
  const auto broken = run_cli(reuse);
  INFO(broken.output);
  CHECK(broken.exit_code == 1);
  CHECK(broken.output.find("DIFFERS") != std::string::npos);
  CHECK(broken.output.find("evidence/acdc_val.jsonl: 1 of ") != std::string::npos);
  CHECK(broken.output.find(line["id"].get<std::string>()) != std::string::npos);
  CHECK(broken.output.find("FAIL (exit 1)") != std::string::npos);

  // Recorded on another kernel path: the gate says so and applies the tolerance, which one pixel is within.
  meta["provenance"]["kernel_path"]["threads"] = 64;
  clcp::write_json_atomic(copy / "dg_acdc-ci/baseline.json", meta);
  const auto other = run_cli(reuse + " --threads 2");
  INFO(other.output);
  CHECK(other.exit_code == 0);
  CHECK(other.output.find("kernel path differs from the baseline's (threads 64 → 2") != std::string::npos);
  CHECK(other.output.find("falling back to the baseline's tolerance") != std::string::npos);
  CHECK(other.output.find("within tolerance") != std::string::npos);

  // A baseline of another protocol fingerprint is an input error.
  meta["fingerprint"] = "0000000000000000";
  clcp::write_json_atomic(copy / "dg_acdc-ci/baseline.json", meta);
  const auto stale = run_cli(reuse);
  CHECK(stale.exit_code == 2);
  CHECK(stale.output.find("was made for protocol fingerprint 0000000000000000") != std::string::npos);
  fs::remove_all(copy);
}

TEST_CASE("the statistical gate builds a distribution, passes runs inside it and flags both kinds of outlier") {
  const fs::path root = fs::temp_directory_path() / "clcp_gate_stat_cli";
  fs::remove_all(root);
  const double src[] = {0.30, 0.31, 0.29, 0.305, 0.295};
  for (int s = 0; s < 5; ++s) stat_bundle(root / "ref" / ("random.full.s" + std::to_string(s)), s, src[s], src[s] * 0.7);
  const std::string common = " --baselines-dir " + (root / "b").string() + " --baseline ref";
  const auto upd = run_cli("gate --tier stat " + (root / "ref").string() + common + " --update");
  INFO(upd.output);
  REQUIRE(upd.exit_code == 0);
  CHECK(upd.output.find("source.mIoU            n 5 mean 30.00 sd 0.79 (new)") != std::string::npos);
  const auto b = clcp::read_json(root / "b/ref.json");
  CHECK(b["metrics"]["source.mIoU"]["n"] == 5);
  CHECK(b["margins"]["source.mIoU"] == 0.01);

  stat_bundle(root / "ok/a", 7, 0.302, 0.21);
  stat_bundle(root / "ok/b", 8, 0.297, 0.208);
  const auto ok = run_cli("gate --tier stat " + (root / "ok").string() + common);
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("PASS") != std::string::npos);

  for (int s = 0; s < 3; ++s) stat_bundle(root / "low" / std::to_string(s), s, 0.26 + 0.002 * s, 0.18);
  const auto low = run_cli("gate --tier stat " + (root / "low").string() + common);
  INFO(low.output);
  CHECK(low.exit_code == 1);
  CHECK(low.output.find("regression") != std::string::npos);

  for (int s = 0; s < 3; ++s) stat_bundle(root / "high" / std::to_string(s), s, 0.34 + 0.002 * s, 0.24);
  const auto high = run_cli("gate --tier stat " + (root / "high").string() + common);
  CHECK(high.exit_code == 1);
  CHECK(high.output.find("suspicious improvement") != std::string::npos);

  stat_bundle(root / "other/a", 1, 0.30, 0.21, "fp2");
  const auto other = run_cli("gate --tier stat " + (root / "other").string() + common);
  CHECK(other.exit_code == 2);
  CHECK(other.output.find("baseline ref was made at fingerprint fp1") != std::string::npos);
  const auto usage = run_cli("gate --tier fast");
  CHECK(usage.exit_code == 2);
  fs::remove_all(root);
}
