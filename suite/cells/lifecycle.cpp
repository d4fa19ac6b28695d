#include "suite/cells/lifecycle.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/results/integrity.hpp"
#include "suite/results/provenance.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The final status after an error. A status write that fails in turn (the same full disk) is only a note: the
// caller rethrows the error that ended the cell.
void record_end(const Bundle& b, const std::string& state, const std::string& stage, const std::string& line) {
  try {
    b.write_status(state, stage, line);
  } catch (const UserError& e) {
    spdlog::warn("note: the cell's status could not be recorded ({}); `clcp-bench status` and reports show it as "
                 "interrupted once this process has ended",
                 e.what());
  }
}

// Temp files of an owner that died mid-write (write_atomic's <file>.tmp.<pid>.<n>) are garbage once we own the cell.
void remove_stale_temp_files(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file() && it->path().filename().string().find(".tmp.") != std::string::npos)
      stale.push_back(it->path());
  for (const auto& f : stale) fs::remove(f, ec);
}

// We hold the lock, so whoever left status "running" has ended without finishing: record it as interrupted.
void settle_dead_owner(const Bundle& b) {
  if (b.state() != "running") return;
  std::string who = "its previous run", stage;
  try {
    const auto st = read_json(b.status_path());
    if (st.contains("pid") && st["pid"].is_number()) who = fmt::format("its previous run (pid {})", st["pid"].get<int64_t>());
    stage = st.value("stage", "");
  } catch (const UserError&) {
  }
  const std::string line = fmt::format("{} ended during {} without finishing (killed or crashed)", who,
                                       stage.empty() ? "its work" : "stage " + stage);
  spdlog::info("cell {}: interrupted: {}; running it again", b.dir().filename().string(), line);
  record_end(b, "interrupted", stage, line);
}

// A finished cell is reused only when it verifies and was computed with this run's thread count.
void check_reusable(const Bundle& b, int threads) {
  const std::string cell = b.dir().filename().string();
  const BundleCheck check = verify_bundle(b.dir());
  if (!check.ok)
    fail("cell {}: finished, but {}; re-run it with --force (or move the bundle away)", cell, check.problem);
  int64_t done_with = 0;
  try {
    done_with = b.read_provenance().value("threads", int64_t{0});
  } catch (const std::exception&) {
  }
  if (done_with > 0 && done_with != threads)
    fail("cell {}: finished with --threads {}, this run uses {}; results are bit-identical only for the same count: "
         "run with --threads {} to reuse it, or add --force to recompute it with {}",
         cell, done_with, threads, done_with, threads);
}

}  // namespace

CellLifecycle::CellLifecycle(Bundle bundle, std::string what, std::string id, CellRunSettings settings)
    : bundle_(std::move(bundle)), what_(std::move(what)), id_(std::move(id)), s_(std::move(settings)) {}

bool CellLifecycle::claim() {
  if (!s_.writer) return false;
  lock_.emplace(CellLock::acquire(bundle_.dir(), s_.command, s_.wait, [&](const LockOwner& owner) {
    spdlog::info("cell {}: being run by {}; waiting for it to finish (--wait)", id_, owner.describe());
  }));
  remove_stale_temp_files(bundle_.dir());
  settle_dead_owner(bundle_);
  if (bundle_.done() && !s_.force) {
    check_reusable(bundle_, s_.threads);
    spdlog::info("{} {}: already done ({}); not training again (use --force to re-run)", what_, id_,
                 bundle_.dir().string());
    return true;
  }
  return false;
}

bool CellLifecycle::resuming() const { return fs::exists(bundle_.dir() / "checkpoints" / "latest.json"); }

void CellLifecycle::start(const CellStart& st) {
  t0_ = std::chrono::steady_clock::now();
  stage_ = st.stage;
  prov_ = collect_environment(s_.device, s_.threads);
  prov_["command"] = s_.command;
  prov_["rerun"] = st.rerun;
  prov_["start"] = utc_now_iso();
  prov_["end"] = nullptr;
  prov_["datasets"] = st.datasets;
  prov_["weights_sha256"] = st.weights_sha256;
  prov_["seed"] = st.seed;
  prov_["fingerprint"] = st.fingerprint;
  if (!s_.executor.is_null()) prov_["executor"] = s_.executor;
  for (const auto& [k, v] : st.extra.items()) prov_[k] = v;
  if (!s_.writer) return;
  if (s_.force && fs::exists(bundle_.dir())) fs::remove_all(bundle_.dir());
  ensure_writable_dir(bundle_.dir());
  spdlog::info("{} {}: {} ({})", what_, id_, resuming() ? "resuming from its last checkpoint" : "starting",
               bundle_.dir().string());
  write_json_atomic(bundle_.spec_path(), st.spec);
  write_provenance();
}

void CellLifecycle::stage(const std::string& stage) {
  stage_ = stage;
  if (s_.writer) bundle_.write_status("running", stage);
}

void CellLifecycle::write_provenance() const {
  if (s_.writer) bundle_.write_provenance(prov_);
}

void CellLifecycle::finish(const json& metrics) {
  if (!s_.writer) return;
  bundle_.write_metrics(metrics);
  prov_["end"] = utc_now_iso();
  prov_["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  write_provenance();
  bundle_.write_status("done", "done");
}

void CellLifecycle::run(const std::function<void()>& body) {
  try {
    stage(stage_);
    body();
  } catch (const Interrupted& e) {
    if (s_.writer) record_end(bundle_, "interrupted", stage_, e.what());
    throw;
  } catch (const UserError& e) {
    if (s_.writer) record_end(bundle_, "failed", stage_, e.what());
    throw;
  }
}

}  // namespace clcp::cells
