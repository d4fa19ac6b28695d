// `clcp-bench gate`: the regression gate. Exit codes: 0 pass, 1 regression, 2 usage or input error.
//   --tier exact: renders the baseline's fixture (the embedded data), runs its grid (the ci scale of dg_acdc) fresh in
//                 a work folder and compares the bundles with baselines/regression/<name>/ (suite/gate/exact.hpp).
//   --tier stat BUNDLES…: finished runs of a reference init against baselines/regression/<name>.json
//                 (suite/gate/stat.hpp).
//   --update: rewrites the baseline from this run (exact) or these bundles (stat) and says what changed.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <clcp/build_info.hpp>
#include <cmath>
#include <iostream>
#include <set>

#include "suite/cli/commands.hpp"
#include "suite/cli/run.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/synth/synth.hpp"
#include "suite/exec/local.hpp"
#include "suite/gate/exact.hpp"
#include "suite/gate/stat.hpp"
#include "suite/results/provenance.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct GateOptions {
  std::string tier;
  std::string baseline;          ///< "" → dg_acdc-ci (exact) or dg_acdc-smoke-random (stat)
  fs::path baselines_dir = fs::path(build_info::kSourceDir) / "baselines" / "regression";
  fs::path work;                 ///< exact: "" → <temp>/clcp-bench-gate-<baseline>
  int threads = 0;               ///< exact: 0 → the baseline's threads
  bool update = false, reuse = false;
  std::vector<std::string> bundles;
};

// The exact baseline a first --update creates: the ci scale of dg_acdc on the default embedded data.
gate::ExactBaseline default_exact_baseline(const std::string& name, const fs::path& dir) {
  gate::ExactBaseline b;
  b.dir = dir;
  b.name = name;
  b.protocol = "dg_acdc";
  b.scale = "ci";
  const Protocol p = load_protocol(b.protocol, b.scale);
  b.grid = {{"inits", p.inits}, {"finetune_modes", p.finetune_modes}, {"seeds", p.seeds}};
  synth::SynthOptions so;  // the embedded data's generator at its default seed and size, fewer images: ~1 min
  so.train_images = 16;
  so.val_images = 8;
  so.acdc_val_per_condition = 4;
  b.fixture = {{"synth",
                {{"seed", so.seed}, {"width", so.width}, {"height", so.height}, {"train_images", so.train_images},
                 {"val_images", so.val_images}, {"acdc_val_per_condition", so.acdc_val_per_condition},
                 {"severity", so.severity}}}};
  b.tolerance.miou_points = 0.5;
  b.tolerance.image_changed_fraction = 0.01;
  b.tolerance.why = "used only on another kernel path; state here how far other kernel paths were measured to move";
  b.provenance = {{"kernel_path", {{"threads", 2}}}};
  return b;
}

synth::SynthOptions fixture_synth(const gate::ExactBaseline& b, const fs::path& out) {
  const json& s = b.fixture.at("synth");
  synth::SynthOptions so;
  so.out = out;
  so.seed = s.at("seed");
  so.width = s.at("width");
  so.height = s.at("height");
  so.train_images = s.at("train_images");
  so.val_images = s.at("val_images");
  so.acdc_val_per_condition = s.at("acdc_val_per_condition");
  so.severity = s.at("severity");
  return so;
}

std::string kernel_summary(const json& kp) {
  if (!kp.is_object()) return "not recorded";
  return fmt::format("threads {}, LibTorch {}, {} dispatch, {}", kp.value("threads", json()).dump(),
                     kp.value("libtorch", "?"), kp.value("cpu_capability", "?"), kp.value("cpu_vendor", "?"));
}

int gate_exact(const GateOptions& g) {
  const std::string name = g.baseline.empty() ? "dg_acdc-ci" : g.baseline;
  const fs::path dir = g.baselines_dir / name;
  const bool exists = fs::exists(dir / "baseline.json");
  gate::ExactBaseline b = exists || !g.update ? gate::read_exact_baseline(dir) : default_exact_baseline(name, dir);

  RunOptions o;
  o.protocol = b.protocol;
  o.scale = b.scale;
  o.inits = b.grid.at("inits").get<std::vector<std::string>>();
  o.finetune_modes = b.grid.at("finetune_modes").get<std::vector<std::string>>();
  o.seeds = b.grid.at("seeds").get<std::vector<int64_t>>();
  const json kp = b.provenance.value("kernel_path", json::object());
  o.threads = g.threads > 0 ? g.threads : kp.value("threads", 2);
  const fs::path work = g.work.empty() ? fs::temp_directory_path() / ("clcp-bench-gate-" + name) : g.work;
  o.data_root = work / "synth";
  o.out = work / "results";
  o.force = !g.reuse;
  o.command_line = command_line();

  const Protocol p = resolve_protocol(o);
  if (exists && p.fingerprint() != b.fingerprint && !g.update)
    fail("baseline {} was made for protocol fingerprint {}, but {} at the {} scale gives {} now; if the recipe "
         "changed on purpose, run `clcp-bench gate --tier exact --update` and commit {} with the change",
         name, b.fingerprint, b.protocol, b.scale, p.fingerprint(), dir.string());
  std::cout << fmt::format("gate exact: baseline {} — {} at the {} scale, fingerprint {}; recorded {} at commit {}{} "
                           "({})\n",
                           name, b.protocol, b.scale, b.fingerprint.empty() ? p.fingerprint() : b.fingerprint,
                           b.provenance.value("date", "(new)"),
                           b.provenance.contains("git_commit") && b.provenance["git_commit"].is_string()
                               ? b.provenance["git_commit"].get<std::string>().substr(0, 12)
                               : std::string("(none)"),
                           b.provenance.value("git_dirty", false) ? " (dirty)" : "", kernel_summary(kp));

  // The fixture: rendered fresh (a stale copy would hide a change of the renderer) unless --reuse finds one.
  const auto so = fixture_synth(b, o.data_root);
  if (!g.reuse || !fs::exists(o.data_root / "SYNTH.json")) {
    const auto s = synth::generate(so);
    std::cout << fmt::format("gate exact: fixture — embedded data seed {}, {}x{}, cityscapes {} train / {} val, acdc "
                             "{} per condition — rendered into {} ({:.1f}s)\n",
                             so.seed, so.width, so.height, so.train_images, so.val_images, so.acdc_val_per_condition,
                             o.data_root.string(), s.wall_seconds);
  }
  RunData data;
  const Plan plan = make_plan(p, o, data);
  install_stop_handler();
  const LocalOutcome run = run_local(plan, [&](size_t i) {
    run_cell(p, data, CellSpec::from_json(plan.cells[i].spec), o);
  });
  if (!run.first_error.empty()) {
    std::cout << fmt::format("FAIL (exit 1): a cell of the gate's grid failed: {}\n", run.first_error);
    return 1;
  }
  std::vector<fs::path> fresh;
  for (size_t i = 0; i < plan.cells.size(); ++i) fresh.push_back(plan.bundle_dir(i));

  if (g.update) {
    b.fingerprint = p.fingerprint();
    const auto changes = gate::write_exact_baseline(b, fresh);
    std::cout << fmt::format("gate exact: baseline {} rewritten from this run ({} cells); what changed:\n", name,
                             fresh.size());
    for (const auto& l : changes) std::cout << "  " << l << "\n";
    std::cout << fmt::format("commit {} together with the change that moved the numbers\n", dir.string());
    return 0;
  }

  const gate::ExactResult r = gate::compare_exact(b, fresh);
  const json fresh_kp = read_json(fresh.front() / "provenance.json").value("kernel_path", json());
  if (r.kernel_difference.empty())
    std::cout << fmt::format("gate exact: kernel path is the baseline's ({}): every byte must match\n",
                             kernel_summary(fresh_kp));
  else
    std::cout << fmt::format(
        "gate exact: kernel path differs from the baseline's ({}), so bit-identical results are not expected; "
        "falling back to the baseline's tolerance: mIoU within ±{:.2f} points, each image's changed pixels within "
        "{:.1f}% of its labelled pixels ({})\n",
        r.kernel_difference, b.tolerance.miou_points, b.tolerance.image_changed_fraction * 100, b.tolerance.why);
  size_t bad = 0;
  for (const auto& c : r.cells) {
    const bool ok = c.found && (r.kernel_difference.empty() ? c.identical : c.within_tolerance);
    bad += ok ? 0 : 1;
    std::string state = c.identical ? "identical" : ok ? "within tolerance" : "DIFFERS";
    if (!c.found) state = "MISSING";
    std::cout << fmt::format("gate exact: cell {}: {}{}\n", c.cell_id, state,
                             c.identical ? fmt::format(" (metrics.json, {} images of evidence, {} train-log lines)",
                                                       c.images_compared, c.log_lines_compared)
                                         : "");
    for (const auto& l : c.lines) std::cout << "  " << l << "\n";
  }
  if (bad == 0) {
    std::cout << fmt::format("PASS: {} cell(s) {} baseline {}\n", r.cells.size(),
                             r.kernel_difference.empty() ? "identical to" : "within the tolerance of", name);
    return 0;
  }
  std::cout << fmt::format("FAIL (exit 1): {} of {} cell(s) differ from baseline {}. If the change is intended, run "
                           "`clcp-bench gate --tier exact --update` and commit {} in the same commit.\n",
                           bad, r.cells.size(), name, dir.string());
  return 1;
}

std::string value_str(const std::string& key, double v) {
  if (!std::isfinite(v)) return "n/a";
  return key == "rPD" ? fmt::format("{:.4f}", v) : fmt::format("{:.2f}", v * 100);
}

int gate_stat(const GateOptions& g) {
  const std::string name = g.baseline.empty() ? "dg_acdc-smoke-random" : g.baseline;
  const fs::path file = g.baselines_dir / (name + ".json");
  if (g.bundles.empty()) fail("gate --tier stat: pass the finished bundles (folders) to compare with {}", file.string());
  std::vector<fs::path> bundles;
  for (const auto& d : g.bundles) {
    auto found = find_bundles(d);
    if (found.empty()) fail("{}: no result bundle (spec.json) found there; pass bundle folders", d);
    bundles.insert(bundles.end(), found.begin(), found.end());
  }
  std::sort(bundles.begin(), bundles.end());
  bundles.erase(std::unique(bundles.begin(), bundles.end()), bundles.end());
  std::vector<std::map<std::string, double>> runs;
  std::vector<std::string> ids;
  std::set<std::string> fingerprints, groups;
  CellSpec first;
  for (const auto& d : bundles) {
    gate::check_bundle_readable(d);
    const CellSpec s = Bundle(d).read_spec();
    if (runs.empty()) first = s;
    fingerprints.insert(s.fingerprint);
    groups.insert(s.init + "." + s.finetune_mode);
    runs.push_back(gate::stat_metrics(read_json(d / "metrics.json")));
    ids.push_back(s.id());
  }
  if (fingerprints.size() > 1 || groups.size() > 1)
    fail("gate --tier stat: the bundles mix {} protocol fingerprint(s) and {} init/mode group(s); pass the runs of one "
         "reference init at one protocol fingerprint",
         fingerprints.size(), groups.size());

  gate::StatBaseline b;
  const bool exists = fs::exists(file);
  if (exists || !g.update) b = gate::read_stat_baseline(file);
  if (!g.update) {
    if (first.fingerprint != b.fingerprint)
      fail("{}: the bundles have protocol fingerprint {}, baseline {} was made at fingerprint {}; they are not "
           "comparable (update the baseline with --update if the recipe changed on purpose)",
           bundles.front().string(), first.fingerprint, name, b.fingerprint);
    if (first.init != b.init || first.finetune_mode != b.finetune_mode)
      fail("{}: the bundles are runs of {} {}, baseline {} is for {} {}; pass runs of the baseline's init and mode",
           bundles.front().string(), first.init, first.finetune_mode, name, b.init, b.finetune_mode);
    const auto checks = gate::check_stat(b, runs);
    std::cout << fmt::format("gate stat: {} run(s) of {} {} against baseline {} (n = {} runs at the {} scale, "
                             "fingerprint {}); one-sided Welch tests at α = {} with margins δ; mIoU in %\n",
                             runs.size(), b.init, b.finetune_mode, name,
                             b.metrics.empty() ? 0 : b.metrics.begin()->second.n, b.scale, b.fingerprint, b.alpha);
    std::cout << fmt::format("{:<22} {:>5} {:>8} {:>7} {:>5} {:>8} {:>7} {:>8} {:>7} {:>9} {:>9}  {}\n", "metric",
                             "ref n", "mean", "sd", "new n", "mean", "sd", "Δ", "δ", "p(regr.)", "p(impr.)", "verdict");
    size_t flagged = 0;
    for (const auto& c : checks) {
      flagged += c.verdict == "ok" ? 0 : 1;
      std::cout << fmt::format("{:<22} {:>5} {:>8} {:>7} {:>5} {:>8} {:>7} {:>8} {:>7} {:>9.4f} {:>9.4f}  {}\n", c.key,
                               c.ref.n, value_str(c.key, c.ref.mean), value_str(c.key, c.ref.sd), c.fresh.n,
                               value_str(c.key, c.fresh.mean), c.fresh.n > 1 ? value_str(c.key, c.fresh.sd) : "–",
                               c.verdict == "missing" ? "n/a" : value_str(c.key, c.delta), value_str(c.key, c.margin),
                               c.p_regression, c.p_improvement, c.verdict);
    }
    if (flagged == 0) {
      std::cout << fmt::format("PASS: every metric within the reference distribution of {}\n", name);
      return 0;
    }
    std::cout << fmt::format("FAIL (exit 1): {} metric(s) flagged (a regression beyond δ, or an improvement beyond δ "
                             "that the reference's spread does not explain)\n",
                             flagged);
    return 1;
  }

  // --update: the distribution of these runs replaces the stored one; margins, α and the rationale are kept.
  if (runs.size() < 2) fail("gate --tier stat --update: {} run(s) given; a reference distribution needs at least 2 seeds",
                            runs.size());
  const auto old = b.metrics;
  if (!exists) {
    b.name = name;
    b.alpha = 0.05;
    b.why = "margins δ: the smallest change worth flagging at this scale (README, Regression gate)";
  }
  b.file = file;
  b.protocol = first.protocol;
  b.scale = first.scale;
  b.fingerprint = first.fingerprint;
  b.init = first.init;
  b.finetune_mode = first.finetune_mode;
  b.metrics = gate::distributions(runs);
  for (const auto& [k, d] : b.metrics)
    if (!b.margins.count(k)) b.margins[k] = k == "rPD" ? 0.05 : 0.01;
  const json prov = read_json(bundles.front() / "provenance.json");
  b.provenance = json::object();
  for (const char* k : {"git_commit", "git_dirty", "build_type", "compiler", "libtorch_version", "cpu", "kernel_path",
                        "device"})
    b.provenance[k] = prov.value(k, json());
  b.provenance["date"] = utc_now_iso();
  b.cells = ids;
  gate::write_stat_baseline(b);
  std::cout << fmt::format("gate stat: baseline {} rewritten from {} runs of {} {}; what changed:\n", file.string(),
                           runs.size(), b.init, b.finetune_mode);
  for (const auto& [k, d] : b.metrics) {
    const auto it = old.find(k);
    std::cout << fmt::format("  {:<22} n {} mean {} sd {}{}\n", k, d.n, value_str(k, d.mean), value_str(k, d.sd),
                             it == old.end() ? " (new)"
                                             : fmt::format("  (was n {} mean {} sd {})", it->second.n,
                                                           value_str(k, it->second.mean), value_str(k, it->second.sd)));
  }
  return 0;
}

}  // namespace

void add_gate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "gate",
      "Regression gate. --tier exact: run the ci scale of dg_acdc on the embedded data and compare metrics.json, the "
      "per-image evidence and the train log with baselines/regression/dg_acdc-ci (bit-identical where the kernel path "
      "is the baseline's, the stated tolerance otherwise). --tier stat BUNDLES…: compare finished runs of a reference "
      "init with a stored distribution (one-sided tests for a regression and for a suspicious improvement). Exit "
      "code 0 pass, 1 regression, 2 usage or input error.");
  auto g = std::make_shared<GateOptions>();
  cmd->add_option("--tier", g->tier, "exact or stat")->required()->check(CLI::IsMember({"exact", "stat"}));
  cmd->add_option("bundles", g->bundles, "stat tier: finished result bundles, or folders holding them");
  cmd->add_option("--baseline", g->baseline,
                  "baseline name in the baselines folder (default dg_acdc-ci for exact, dg_acdc-smoke-random for "
                  "stat)");
  cmd->add_option("--baselines-dir", g->baselines_dir, "folder of the regression baselines")->capture_default_str();
  cmd->add_option("--work", g->work, "exact tier: work folder for the fixture data and the fresh run (default: a "
                                     "folder in the system's temp dir)");
  cmd->add_option("--threads", g->threads, "exact tier: threads (default: the baseline's; another count is another "
                                           "kernel path)");
  cmd->add_flag("--update", g->update, "rewrite the baseline from this run / these bundles and print what changed");
  cmd->add_flag("--reuse", g->reuse, "exact tier: keep the fixture and finished cells already in --work (to "
                                     "re-check a run; a gate in CI always runs fresh)");
  cmd->callback([g] {
    if (g->tier == "exact" && !g->bundles.empty())
      fail("gate --tier exact runs its own grid; bundles are for --tier stat");
    const int code = g->tier == "exact" ? gate_exact(*g) : gate_stat(*g);
    if (code != 0) throw Exit(code);
  });
}

}  // namespace clcp::cli
