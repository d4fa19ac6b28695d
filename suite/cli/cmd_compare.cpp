// `clcp-bench compare A B`: paired bootstrap comparison of two sets of result bundles of one protocol
// (suite/stats/compare.hpp): Δ mIoU and Δ rPD with CIs, P(improvement), a verdict, and the seeds needed.
#include <iostream>

#include "suite/cli/commands.hpp"
#include "suite/stats/compare.hpp"

namespace clcp::cli {

void add_compare(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare result bundles B against A (same protocol): paired by seed and image, Δ = B − A with bootstrap CIs, "
      "P(Δ>0), verdict better/worse/inconclusive, and seeds needed to detect an effect");
  struct Opts {
    std::string a, b;
    int64_t replicates = 2000;
    uint64_t seed = 0;
    double effect = 1.0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("A", o->a, "baseline: a result bundle or a folder of bundles")->required();
  cmd->add_option("B", o->b, "candidate: a result bundle or a folder of bundles")->required();
  cmd->add_option("--replicates", o->replicates, "bootstrap replicates (default 2000)")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "bootstrap seed (default 0); recorded in the output");
  cmd->add_option("--effect", o->effect, "effect to detect for the seeds-needed estimate, in mIoU points (default 1.0)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json, "print JSON instead of the table");
  cmd->callback([o] {
    stats::CompareOptions opts;
    opts.bootstrap.replicates = o->replicates;
    opts.bootstrap.seed = o->seed;
    opts.effect_points = o->effect;
    const auto r = stats::compare({o->a}, {o->b}, opts);
    if (o->json)
      std::cout << r.to_json().dump(2) << "\n";
    else
      std::cout << r.table();
  });
}

}  // namespace clcp::cli
