// The gate's runs (gate_run.hpp).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <clcp/build_info.hpp>
#include <cmath>
#include <iostream>
#include <set>

#include "suite/cells/gate_run.hpp"
#include "suite/cells/pretrain_cell.hpp"
#include "suite/cells/run.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/data/synth/synth.hpp"
#include "suite/exec/local.hpp"
#include "suite/gate/exact.hpp"
#include "suite/gate/pretrain_exact.hpp"
#include "suite/gate/stat.hpp"
#include "suite/results/provenance.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {


// The embedded data of a fixture: the generator at its default seed and size, fewer Cityscapes/ACDC images (~1 min),
// the A2D2 rig at its defaults, written out so that a later change of the defaults does not move the fixture.
json default_fixture() {
  synth::SynthOptions so;
  so.train_images = 16;
  so.val_images = 8;
  so.acdc_val_per_condition = 4;
  const auto& a = so.a2d2;
  return {{"synth",
           {{"seed", so.seed}, {"width", so.width}, {"height", so.height}, {"train_images", so.train_images},
            {"val_images", so.val_images}, {"acdc_val_per_condition", so.acdc_val_per_condition},
            {"severity", so.severity},
            {"a2d2",
             {{"scenes", a.scenes}, {"frames", a.frames}, {"scale", a.scale}, {"step_m", a.step_m},
              {"condition_share", a.condition_share}}}}}};
}

// The exact baseline a first --update creates, on the embedded data at the ci scale: of the pretraining protocol
// the name starts with ("<protocol>-ci", e.g. clcp_a2d2-ci: any method's), else of dg_acdc.
gate::ExactBaseline default_exact_baseline(const std::string& name, const fs::path& dir) {
  gate::ExactBaseline b;
  b.dir = dir;
  b.name = name;
  b.scale = "ci";
  b.fixture = default_fixture();
  b.provenance = {{"kernel_path", {{"threads", 2}}}};
  const std::string head = name.substr(0, name.find('-'));
  if (fs::exists(protocols_dir() / (head + ".json")) && protocol_schema(head) == "clcp-bench/pretrain-protocol/1") {
    b.kind = "pretrain";
    b.protocol = head;
    b.grid = {{"seeds", load_pretrain_protocol(b.protocol, b.scale).seeds}};
    b.pretrain_tolerance.why = "used only on another kernel path; state here how far other kernel paths were measured "
                               "to move";
    return b;
  }
  b.protocol = "dg_acdc";
  const Protocol p = load_protocol(b.protocol, b.scale);
  b.grid = {{"inits", p.inits}, {"finetune_modes", p.finetune_modes}, {"seeds", p.seeds}};
  b.tolerance.miou_points = 0.5;
  b.tolerance.image_changed_fraction = 0.01;
  b.tolerance.why = "used only on another kernel path; state here how far other kernel paths were measured to move";
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
  if (s.contains("a2d2")) {  // absent (baselines from before the A2D2 rig was recorded): the generator's defaults
    const json& a = s["a2d2"];
    so.a2d2.scenes = a.at("scenes");
    so.a2d2.frames = a.at("frames");
    so.a2d2.scale = a.at("scale");
    so.a2d2.step_m = a.at("step_m");
    so.a2d2.condition_share = a.at("condition_share");
  }
  return so;
}

// Every option of the fixture, defaults included: baselines whose fixtures resolve to the same options share one
// rendering.
std::string fixture_key(const synth::SynthOptions& so) {
  const json j = {{"seed", so.seed}, {"width", so.width}, {"height", so.height}, {"train_images", so.train_images},
                  {"val_images", so.val_images}, {"acdc", so.acdc_val_per_condition}, {"severity", so.severity},
                  {"a2d2", {so.a2d2.scenes, so.a2d2.frames, so.a2d2.scale, so.a2d2.step_m, so.a2d2.condition_share}},
                  {"generator", synth::kGeneratorVersion}};
  return sha256_hex(canonical_json(j)).substr(0, 12);
}

std::string kernel_summary(const json& kp) {
  if (!kp.is_object()) return "not recorded";
  return fmt::format("threads {}, LibTorch {}, {} dispatch, {}", kp.value("threads", json()).dump(),
                     kp.value("libtorch", "?"), kp.value("cpu_capability", "?"), kp.value("cpu_vendor", "?"));
}

// The exact baselines a run covers: --baseline, or every exact-tier baseline folder in the baselines folder.
std::vector<std::string> exact_baselines(const GateOptions& g) {
  if (!g.baseline.empty()) return {g.baseline};
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(g.baselines_dir, ec))
    if (fs::exists(e.path() / "baseline.json") && read_json(e.path() / "baseline.json").value("tier", "") == "exact")
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  if (names.empty())
    fail("{}: no exact-tier baseline there (folders with baseline.json); create one with `clcp-bench gate --tier "
         "exact --baseline dg_acdc-ci --update`",
         g.baselines_dir.string());
  return names;
}

// The options of a pretrain baseline's cell.
PretrainOptions pretrain_gate_options(const gate::ExactBaseline& b, const GateOptions& g, const fs::path& data_root,
                                      const fs::path& out, int threads) {
  PretrainOptions po;
  po.protocol = b.protocol;
  po.scale = b.scale;
  po.seed = b.grid.at("seeds").at(0).get<int64_t>();
  po.data_root = data_root;
  po.threads = threads;
  po.out = out;
  po.force = !g.reuse;
  po.command_line = g.command;
  return po;
}

// Runs the pretraining cell of a pretrain baseline through the plan dispatcher; returns its bundle, or "" with the
// error in `error`.
fs::path run_pretrain_baseline_cell(const PretrainOptions& po, std::string& error) {
  PlanContext ctx;
  const Plan plan = make_pretrain_plan(po, ctx);
  try {
    dispatch_cell(plan, 0, ctx);
    return plan.bundle_dir(0);
  } catch (const UserError& e) {  // a cell that fails (NaN loss, …) is a regression, as in the finetune grid
    error = e.what();
    return {};
  }
}

// One exact baseline: render (or share) its fixture, run its grid fresh, compare (or rewrite with --update).
// Returns 0 (pass or updated) or 1 (regression); input errors throw.
int gate_exact_one(const GateOptions& g, const std::string& name, const fs::path& work,
                   std::set<fs::path>& rendered) {
  const fs::path dir = g.baselines_dir / name;
  const bool exists = fs::exists(dir / "baseline.json");
  gate::ExactBaseline b = exists || !g.update ? gate::read_exact_baseline(dir) : default_exact_baseline(name, dir);
  const bool pretrain = b.kind == "pretrain";
  const json kp = b.provenance.value("kernel_path", json::object());
  const int threads = g.threads > 0 ? g.threads : kp.value("threads", 2);
  const fs::path out = work / "results";

  std::string fingerprint;
  if (pretrain) {
    fingerprint = resolve_pretrain_protocol(pretrain_gate_options(b, g, {}, out, threads)).fingerprint();
  } else {
    RunOptions o;
    o.protocol = b.protocol;
    o.scale = b.scale;
    o.inits = b.grid.at("inits").get<std::vector<std::string>>();
    o.finetune_modes = b.grid.at("finetune_modes").get<std::vector<std::string>>();
    o.seeds = b.grid.at("seeds").get<std::vector<int64_t>>();
    o.threads = threads;
    fingerprint = resolve_protocol(o).fingerprint();
  }
  if (exists && fingerprint != b.fingerprint && !g.update)
    fail("baseline {} was made for protocol fingerprint {}, but {} at the {} scale gives {} now; if the recipe "
         "changed on purpose, run `clcp-bench gate --tier exact --update` and commit {} with the change",
         name, b.fingerprint, b.protocol, b.scale, fingerprint, dir.string());
  std::cout << fmt::format("gate exact: baseline {} — {} {}at the {} scale, fingerprint {}; recorded {} at commit {}{} "
                           "({})\n",
                           name, b.protocol, pretrain ? "pretraining " : "", b.scale,
                           b.fingerprint.empty() ? fingerprint : b.fingerprint, b.provenance.value("date", "(new)"),
                           b.provenance.contains("git_commit") && b.provenance["git_commit"].is_string()
                               ? b.provenance["git_commit"].get<std::string>().substr(0, 12)
                               : std::string("(none)"),
                           b.provenance.value("git_dirty", false) ? " (dirty)" : "", kernel_summary(kp));

  // The fixture: rendered fresh (a stale copy would hide a change of the renderer) unless --reuse finds one; once
  // per gate run for the baselines that share it.
  auto so = fixture_synth(b, {});
  const fs::path data_root = work / ("fixture-" + fixture_key(so));
  so.out = data_root;
  if (rendered.count(data_root)) {
    std::cout << fmt::format("gate exact: fixture — the one rendered above ({})\n", data_root.string());
  } else if (!g.reuse || !fs::exists(data_root / "SYNTH.json")) {
    const auto s = synth::generate(so);
    std::cout << fmt::format("gate exact: fixture — embedded data seed {}, {}x{}, cityscapes {} train / {} val, acdc "
                             "{} per condition, a2d2 {} scenes x {} frames — rendered into {} ({:.1f}s)\n",
                             so.seed, so.width, so.height, so.train_images, so.val_images, so.acdc_val_per_condition,
                             so.a2d2.scenes, so.a2d2.frames, data_root.string(), s.wall_seconds);
  }
  rendered.insert(data_root);

  std::vector<fs::path> fresh;
  std::string failed;
  if (pretrain) {
    const fs::path cell = run_pretrain_baseline_cell(pretrain_gate_options(b, g, data_root, out, threads), failed);
    if (!cell.empty()) fresh.push_back(cell);
  } else {
    RunOptions o;
    o.protocol = b.protocol;
    o.scale = b.scale;
    o.inits = b.grid.at("inits").get<std::vector<std::string>>();
    o.finetune_modes = b.grid.at("finetune_modes").get<std::vector<std::string>>();
    o.seeds = b.grid.at("seeds").get<std::vector<int64_t>>();
    o.threads = threads;
    o.data_root = data_root;
    o.out = out;
    o.force = !g.reuse;
    o.command_line = g.command;
    const Protocol p = resolve_protocol(o);
    PlanContext ctx;
    ctx.o = o;
    ctx.finetune = &p;
    const Plan plan = make_plan(p, o, ctx.data);
    install_stop_handler();
    const LocalOutcome run = run_local(plan, [&](size_t i) { dispatch_cell(plan, i, ctx); });
    failed = run.first_error;
    for (size_t i = 0; i < plan.cells.size(); ++i) fresh.push_back(plan.bundle_dir(i));
  }
  if (!failed.empty()) {
    std::cout << fmt::format("FAIL (exit 1): a cell of baseline {}'s grid failed: {}\n", name, failed);
    return 1;
  }

  if (g.update) {
    b.fingerprint = fingerprint;
    const auto changes =
        pretrain ? gate::write_pretrain_baseline(b, fresh) : gate::write_exact_baseline(b, fresh);
    std::cout << fmt::format("gate exact: baseline {} rewritten from this run ({} cells); what changed:\n", name,
                             fresh.size());
    for (const auto& l : changes) std::cout << "  " << l << "\n";
    std::cout << fmt::format("commit {} together with the change that moved the numbers\n", dir.string());
    return 0;
  }

  const gate::ExactResult r = pretrain ? gate::compare_pretrain_exact(b, fresh) : gate::compare_exact(b, fresh);
  const json fresh_kp = read_json(fresh.front() / "provenance.json").value("kernel_path", json());
  if (r.kernel_difference.empty())
    std::cout << fmt::format("gate exact: kernel path is the baseline's ({}): every byte must match\n",
                             kernel_summary(fresh_kp));
  else if (pretrain)
    std::cout << fmt::format(
        "gate exact: kernel path differs from the baseline's ({}), so bit-identical results are not expected; "
        "falling back to the baseline's tolerance: losses, temperature and gradient norms within {:.1e} relative, "
        "each encoder tensor's norm within {:.1e} relative, at most {} val quer{} changing per Recall@K ({})\n",
        r.kernel_difference, b.pretrain_tolerance.relative, b.pretrain_tolerance.encoder_relative,
        b.pretrain_tolerance.retrieval_queries,
        b.pretrain_tolerance.retrieval_queries == 1 ? "y" : "ies", b.pretrain_tolerance.why);
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
    const std::string compared =
        pretrain ? fmt::format(" (metrics.json, {} epochs of pretrain_log.jsonl, {} train-log steps, {} exported "
                               "encoder(s) by sha256)",
                               c.epochs_compared, c.log_lines_compared, c.encoders_compared)
                 : fmt::format(" (metrics.json, {} images of evidence, {} train-log lines)", c.images_compared,
                               c.log_lines_compared);
    std::cout << fmt::format("gate exact: cell {}: {}{}\n", c.cell_id, state, c.identical ? compared : "");
    for (const auto& l : c.lines) std::cout << "  " << l << "\n";
  }
  if (bad == 0) {
    // Bit-identical results on another kernel path (ISA flags the kernels never used) are still identical: say so,
    // so that a CI log reads the same on any CPU whose kernels gave the same bytes.
    const bool all_identical =
        std::all_of(r.cells.begin(), r.cells.end(), [](const auto& c) { return c.found && c.identical; });
    std::cout << fmt::format("PASS: {} cell(s) {} baseline {}{}\n", r.cells.size(),
                             all_identical ? "identical to" : "within the tolerance of", name,
                             all_identical && !r.kernel_difference.empty() ? " (although the kernel path differs)" : "");
    return 0;
  }
  std::cout << fmt::format("FAIL (exit 1): {} of {} cell(s) differ from baseline {}. If the change is intended, run "
                           "`clcp-bench gate --tier exact --update` and commit {} in the same commit.\n",
                           bad, r.cells.size(), name, dir.string());
  return 1;
}

}  // namespace

int gate_exact(const GateOptions& g) {
  const auto names = exact_baselines(g);
  const fs::path work = g.work.empty() ? fs::temp_directory_path() / "clcp-bench-gate" : g.work;
  std::set<fs::path> rendered;
  std::vector<std::string> failed;
  for (const auto& name : names)
    if (gate_exact_one(g, name, work, rendered) != 0) failed.push_back(name);
  if (names.size() > 1)
    std::cout << fmt::format("gate exact: {} of {} baselines {}{}\n", names.size() - failed.size(), names.size(),
                             g.update ? "rewritten" : "pass",
                             failed.empty() ? "" : fmt::format("; FAILED: {}", fmt::join(failed, ", ")));
  return failed.empty() ? 0 : 1;
}

namespace {

std::string value_str(const std::string& key, double v) {
  if (!std::isfinite(v)) return "n/a";
  return key == "rPD" ? fmt::format("{:.4f}", v) : fmt::format("{:.2f}", v * 100);
}

}  // namespace

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
  std::vector<double> best_constant;
  std::vector<std::string> ids;
  std::set<std::string> fingerprints, groups;
  CellSpec first;
  for (const auto& d : bundles) {
    gate::check_bundle_readable(d);
    const CellSpec s = Bundle(d).read_spec();
    if (runs.empty()) first = s;
    fingerprints.insert(s.fingerprint);
    groups.insert(s.init + "." + s.finetune_mode);
    const json metrics = read_json(d / "metrics.json");
    runs.push_back(gate::stat_metrics(metrics));
    best_constant.push_back(gate::source_best_constant(metrics));
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
    const auto checks = gate::check_stat(b, runs, best_constant);
    std::cout << fmt::format("gate stat: {} run(s) of {} {} against baseline {} (n = {} runs at the {} scale, "
                             "fingerprint {}); one-sided Welch tests at α = {} with margins δ; mIoU in %\n",
                             runs.size(), b.init, b.finetune_mode, name,
                             b.metrics.empty() ? 0 : b.metrics.begin()->second.n, b.scale, b.fingerprint, b.alpha);
    std::cout << fmt::format("{:<22} {:>5} {:>8} {:>7} {:>5} {:>8} {:>7} {:>8} {:>7} {:>9} {:>9}  {}\n", "metric",
                             "ref n", "mean", "sd", "new n", "mean", "sd", "Δ", "δ", "p(regr.)", "p(impr.)", "verdict");
    size_t flagged = 0;
    for (const auto& c : checks) {
      flagged += c.verdict == "ok" || c.verdict == "not meaningful" ? 0 : 1;
      std::cout << fmt::format("{:<22} {:>5} {:>8} {:>7} {:>5} {:>8} {:>7} {:>8} {:>7} {:>9.4f} {:>9.4f}  {}\n", c.key,
                               c.ref.n, value_str(c.key, c.ref.mean), value_str(c.key, c.ref.sd), c.fresh.n,
                               value_str(c.key, c.fresh.mean), c.fresh.n > 1 ? value_str(c.key, c.fresh.sd) : "–",
                               c.verdict == "missing" ? "n/a" : value_str(c.key, c.delta), value_str(c.key, c.margin),
                               c.p_regression, c.p_improvement, c.verdict);
      if (!c.note.empty()) std::cout << fmt::format("  {}: {} (not checked)\n", c.key, c.note);
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
    b.why = "margins δ: the smallest change worth flagging at this scale (docs/gate.md, Statistical tier)";
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


}  // namespace clcp::cells
