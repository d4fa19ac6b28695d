// `clcp-bench status [--protocol NAME | PATH]`: every planned cell and where it stands — done, unverified (finished,
// but a file changed since: the problem instead of its numbers), running (iteration and ETA), interrupted, failed
// (its error line), never run. Bundles are the truth (suite/results/cell_progress.hpp);
// squeue only adds the Slurm task of a submitted plan (suite/exec/slurm.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <set>

#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/exec/slurm.hpp"
#include "suite/plan/plan.hpp"
#include "suite/results/cell_progress.hpp"
#include "suite/results/integrity.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct PlanFile {
  fs::path file;          ///< plan-*.json in OUT/<protocol>/, or OUT/<protocol>/slurm/<fp>/plan.json
  fs::path protocol_dir;  ///< where its bundles are
};

// Plan files under a results root, a protocol folder, or the file itself.
std::vector<PlanFile> find_plans(const fs::path& path) {
  std::vector<PlanFile> out;
  std::error_code ec;
  if (fs::is_regular_file(path)) {
    const bool slurm_copy = path.filename() == "plan.json" && path.parent_path().parent_path().filename() == "slurm";
    out.push_back({path, slurm_copy ? path.parent_path().parent_path().parent_path() : path.parent_path()});
    return out;
  }
  auto scan_protocol = [&](const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string n = e.path().filename().string();
      if (e.is_regular_file() && n.rfind("plan-", 0) == 0 && e.path().extension() == ".json") files.push_back(e.path());
    }
    for (const auto& e : fs::directory_iterator(dir / "slurm", ec))
      if (fs::exists(e.path() / "plan.json")) files.push_back(e.path() / "plan.json");
    std::sort(files.begin(), files.end());
    for (const auto& f : files) out.push_back({f, dir});
  };
  scan_protocol(path);
  if (out.empty())
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_directory()) scan_protocol(e.path());
  return out;
}

std::string duration(double s) {
  if (!std::isfinite(s)) return "?";
  const auto t = static_cast<int64_t>(std::llround(s));
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, t / 60 % 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

std::string pretrain_detail(const CellProgress& c) {
  if (c.state == "done")
    return std::isfinite(c.val_loss) ? fmt::format("pretraining: val loss {:.4f}, R@1 image→lidar {:.3f}", c.val_loss,
                                                   c.recall_at_1)
                                     : "";
  if (c.state == "running" && c.stage == "pretrain")
    return fmt::format("pretrain epoch {}/{} (step {}), {} epoch(s) checkpointed, ETA {} (status updated {})",
                       std::max<int64_t>(c.epoch, 0) + 1, c.epochs, c.step, c.epochs_done, duration(c.eta_s),
                       c.updated);
  if (c.state == "running") return fmt::format("{} (status updated {})", c.stage, c.updated);
  if (c.state == "interrupted")
    return fmt::format("after {} of {} epochs: {}; the same command resumes it", c.epochs_done, c.epochs, c.error);
  if (c.state == "failed") return fmt::format("{}: {}", c.stage, c.error);
  return "";
}

std::string detail(const CellProgress& c) {
  if (c.pretrain) return pretrain_detail(c);
  if (c.state == "done")
    return std::isfinite(c.miou_source)
               ? fmt::format("mIoU Cityscapes {:.2f}, ACDC {:.2f}", c.miou_source * 100, c.miou_target * 100)
               : "";
  if (c.state == "running") {
    if (c.stage == "finetune")
      return fmt::format("finetune iteration {}/{}, ETA {} (status updated {})", c.iter, c.max_iters, duration(c.eta_s),
                         c.updated);
    return fmt::format("{} (finetune done; status updated {})", c.stage, c.updated);
  }
  if (c.state == "interrupted")
    return fmt::format("at iteration {}/{}: {}; the same command resumes it", c.iter, c.max_iters, c.error);
  if (c.state == "failed") return fmt::format("{}: {}", c.stage, c.error);
  return "";
}

}  // namespace

void add_status(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "status",
      "Every planned cell of a results folder and where it stands: done, unverified (a file changed since it "
      "finished), running (iteration, ETA), interrupted, "
      "failed (error line), never run — read from the bundles; a Slurm submission adds its task ids (squeue)");
  struct Opts {
    std::string protocol, path;
    std::string results = "results";
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("path", o->path, "a results root, a protocol folder OUT/<protocol>, or a plan file");
  cmd->add_option("--protocol", o->protocol, "the plans under RESULTS/<protocol>/");
  cmd->add_option("--results", o->results, "results root for --protocol (default results)");
  cmd->callback([o] {
    if (!o->path.empty() && !o->protocol.empty()) fail("status: pass --protocol NAME or a PATH, not both");
    const fs::path where = !o->path.empty() ? fs::path(o->path)
                           : !o->protocol.empty() ? fs::path(o->results) / o->protocol
                                                  : fs::path(o->results);
    if (!fs::exists(where)) fail("{}: no such folder or file; pass the --out of a run (default results)", where.string());
    const auto plans = find_plans(where);
    if (plans.empty())
      fail("{}: no plan files (plan-*.json) there; `clcp-bench run` writes one into OUT/<protocol>/ before any cell "
           "starts",
           where.string());
    std::set<std::string> shown;  // a plan run locally and through Slurm is the same plan: show it once
    for (const auto& pf : plans) {
      const json j = read_json(pf.file);
      Plan plan;
      bool full = j.contains("plan");
      if (full) {
        plan = Plan::from_json(j, pf.file.string());
      } else {  // a plan file from before plans had cells of their own: ids only
        plan.protocol_name = j.value("protocol", "?");
        plan.scale = j.value("scale", "?");
        plan.protocol_fingerprint = j.value("fingerprint", "?");
        for (const auto& id : j.value("cells", json::array())) plan.cells.push_back({CellKind::finetune, id, id, {}, {}});
      }
      const std::string key = full ? plan.fingerprint() : pf.file.string();
      if (!shown.insert(key).second) continue;
      std::map<size_t, SlurmTaskState> slurm;
      if (full) slurm = query_slurm(plan, pf.protocol_dir / "slurm" / plan.fingerprint());
      std::map<std::string, int> counts;
      std::vector<std::string> lines;
      for (size_t i = 0; i < plan.cells.size(); ++i) {
        const auto& cell = plan.cells[i];
        // A pretraining cell's bundle belongs to its own protocol (Plan::bundle_dir): OUT/<that protocol>/<id>,
        // found next to this plan's protocol folder wherever the results folder is now.
        const fs::path rel = plan.bundle_dir(i).lexically_relative(plan.protocol_dir());
        const fs::path bundle = (pf.protocol_dir / rel).lexically_normal();
        CellProgress c = read_cell_progress(bundle);
        std::string shown_detail = detail(c);
        // A finished bundle's numbers are shown only when it verifies (as report and compare require): an edited
        // or damaged file is named instead of its numbers.
        if (c.state == "done") {
          const BundleCheck check = verify_bundle(bundle);
          if (!check.ok) {
            c.state = "unverified";
            shown_detail = "NOT VERIFIED: " + check.problem + "; re-run the cell with --force";
          }
        }
        ++counts[c.state];
        std::string line = fmt::format("  {:<12} {:<40} {}", c.state, cell.id, shown_detail);
        if (const auto it = slurm.find(i); it != slurm.end())
          line += fmt::format("  [slurm {} {}{}]", it->second.job_id, it->second.state,
                              it->second.reason.empty() || it->second.reason == "None" ? ""
                                                                                       : " (" + it->second.reason + ")");
        while (!line.empty() && line.back() == ' ') line.pop_back();
        lines.push_back(line);
      }
      std::string summary;
      for (const char* s : {"done", "unverified", "running", "interrupted", "failed", "never run"})
        if (counts[s]) summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", counts[s], s);
      std::cout << fmt::format("{} {} — protocol fingerprint {}{} ({}): {} cells: {}\n", plan.protocol_name, plan.scale,
                               plan.protocol_fingerprint, full ? ", plan " + plan.fingerprint() : "",
                               pf.file.string(), plan.cells.size(), summary);
      for (const auto& l : lines) std::cout << l << "\n";
    }
  });
}

}  // namespace clcp::cli
