// Where a cell stands, from its bundle alone: the states `clcp-bench status` shows.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "suite/core/fsio.hpp"
#include "suite/results/cell_progress.hpp"

namespace fs = std::filesystem;
using Catch::Detail::Approx;

namespace {
fs::path bundle(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / "clcp_cell_progress" / name;
  fs::remove_all(d);
  clcp::write_json_atomic(d / "spec.json", {{"recipe", {{"train", {{"max_iters", 100}, {"batch_size", 4}}}}}});
  return d;
}
void status(const fs::path& d, const std::string& state, const std::string& stage, const char* error = nullptr) {
  clcp::write_json_atomic(d / "status.json", {{"state", state}, {"stage", stage},
                                              {"error", error ? nlohmann::json(error) : nlohmann::json(nullptr)},
                                              {"updated", "2026-12-01T10:00:00Z"}});
}
}  // namespace

TEST_CASE("a running cell reports its last logged iteration and the ETA from its recent speed") {
  const fs::path d = bundle("running");
  status(d, "running", "finetune");
  clcp::write_atomic(d / "train_log.jsonl", "{\"iter\":10,\"images_per_s\":2.0}\n{\"iter\":20,\"images_per_s\":4.0}\n{\"it");
  const auto c = clcp::read_cell_progress(d);
  CHECK(c.state == "running");
  CHECK(c.iter == 20);  // the partial last line is ignored
  CHECK(c.max_iters == 100);
  CHECK(c.eta_s == Approx(80.0));  // 80 iterations x 4 images / 4 images per second
  CHECK(c.updated == "2026-12-01T10:00:00Z");
}

TEST_CASE("done, failed, interrupted and never-run cells are told apart") {
  const fs::path done = bundle("done");
  status(done, "done", "done");
  clcp::write_json_atomic(done / "metrics.json", {{"source", {{"mIoU", 0.5}}}, {"target", {{"pooled", {{"mIoU", 0.25}}}}}});
  auto c = clcp::read_cell_progress(done);
  CHECK(c.state == "done");
  CHECK(c.miou_source == 0.5);
  CHECK(c.miou_target == 0.25);
  CHECK(std::isnan(c.eta_s));

  const fs::path failed = bundle("failed");
  status(failed, "failed", "finetune", "iteration 7: loss is NaN/Inf");
  c = clcp::read_cell_progress(failed);
  CHECK(c.state == "failed");
  CHECK(c.error == "iteration 7: loss is NaN/Inf");

  const fs::path cut = bundle("cut");
  status(cut, "interrupted", "finetune", "stopped after iteration 30");
  clcp::write_atomic(cut / "train_log.jsonl", "{\"iter\":30,\"images_per_s\":2.0}\n");
  c = clcp::read_cell_progress(cut);
  CHECK(c.state == "interrupted");
  CHECK(c.iter == 30);
  CHECK(std::isnan(c.eta_s));

  const fs::path started = bundle("started");  // a folder without status.json
  CHECK(clcp::read_cell_progress(started).state == "interrupted");
  CHECK(clcp::read_cell_progress(fs::temp_directory_path() / "clcp_cell_progress" / "nothing").state == "never run");
  fs::remove_all(fs::temp_directory_path() / "clcp_cell_progress");
}
