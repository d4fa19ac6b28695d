// `clcp-bench protocols [NAME] [--scale S]`: lists protocols (finetune and pretraining) and their scales, or prints a
// resolved plan.
#include <fmt/format.h>

#include <iostream>

#include "suite/cli/commands.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "suite/protocol/protocol.hpp"

namespace clcp::cli {

void add_protocols(CLI::App& app) {
  auto* cmd = app.add_subcommand("protocols", "List protocols and scales; with NAME, print its resolved plan (JSON)");
  auto name = std::make_shared<std::string>();
  auto scale = std::make_shared<std::string>("full");
  cmd->add_option("name", *name, "protocol to resolve and print");
  cmd->add_option("--scale", *scale, "scale to resolve (default full)");
  cmd->callback([name, scale] {
    const auto pretraining = [](const std::string& n) {
      return protocol_schema(n) == "clcp-bench/pretrain-protocol/1";
    };
    if (!name->empty()) {
      std::cout << (pretraining(*name) ? load_pretrain_protocol(*name, *scale).to_json()
                                       : load_protocol(*name, *scale).to_json())
                       .dump(2)
                << "\n";
      return;
    }
    std::cout << fmt::format("protocols in {}:\n", protocols_dir().string());
    for (const auto& n : list_protocols()) {
      std::cout << fmt::format("  {}\n", n);
      for (const auto& [s, d] : list_scales(protocol_path(n))) {
        if (pretraining(n)) {
          const PretrainProtocol p = load_pretrain_protocol(n, s);
          std::cout << fmt::format("    --scale {:<6} fingerprint {}  {} epochs x batch {}  {}\n", s, p.fingerprint(),
                                   p.epochs, p.batch_size, d);
          continue;
        }
        const Protocol p = load_protocol(n, s);
        std::cout << fmt::format("    --scale {:<6} fingerprint {}  {} iters x batch {}  {}\n", s, p.fingerprint(),
                                 p.max_iters, p.batch_size, d);
      }
    }
  });
}

}  // namespace clcp::cli
