// `clcp-bench methods [--json]`: the registered pretraining methods (suite/pretrain/methods/registry.hpp), each with
// the towers it trains, the data it needs, the protocols that use it (protocol files whose "method" names it; a file
// without the key is CLCP's) with their scales, and the decisions those protocols record.
#include <fmt/format.h>

#include <iostream>

#include "suite/cli/commands.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "suite/protocol/protocol.hpp"

namespace clcp::cli {
using nlohmann::json;

namespace {

json describe(const MethodInfo& m) {
  json protocols = json::array();
  for (const auto& name : list_protocols()) {
    if (protocol_schema(name) != "clcp-bench/pretrain-protocol/1") continue;
    const auto scales = list_scales(protocol_path(name));
    const PretrainProtocol p = load_pretrain_protocol(name, scales.front().first);
    if (p.method != m.name) continue;
    json topics = json::array();
    for (const auto& d : p.decisions) topics.push_back(d.value("topic", ""));
    json scale_names = json::array();
    for (const auto& [s, d] : scales) scale_names.push_back(s);
    protocols.push_back({{"name", name}, {"scales", scale_names}, {"decisions", topics}});
  }
  return {{"name", m.name},
          {"summary", m.summary},
          {"towers", m.towers},
          {"data", m.data},
          {"init_names", m.name + "-<variant>@ep<NN>"},
          {"variants", m.variant_grammar.empty() ? "<variant>" : m.variant_grammar},
          {"default_protocol", m.default_protocol},
          {"protocols", protocols}};
}

}  // namespace

void add_methods(CLI::App& app) {
  auto* cmd = app.add_subcommand("methods", "List the registered pretraining methods: the towers each trains, the "
                                            "data it needs, its protocols and scales, and the decisions they record");
  auto as_json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *as_json, "print the list as JSON");
  cmd->callback([as_json] {
    json all = json::array();
    for (const MethodInfo* m : registered_methods()) all.push_back(describe(*m));
    if (*as_json) {
      std::cout << all.dump(2) << "\n";
      return;
    }
    for (const auto& m : all) {
      std::cout << fmt::format("{}  {}\n", m["name"].get<std::string>(), m["summary"].get<std::string>());
      std::cout << fmt::format("    trains   {} ({})\n", fmt::join(m["towers"].get<std::vector<std::string>>(), " + "),
                               m["data"].get<std::string>());
      std::cout << fmt::format("    inits    {}, <variant> = {}\n", m["init_names"].get<std::string>(),
                               m["variants"].get<std::string>());
      for (const auto& p : m["protocols"]) {
        std::cout << fmt::format("    protocol {} (scales {})\n", p["name"].get<std::string>(),
                                 fmt::join(p["scales"].get<std::vector<std::string>>(), ", "));
        std::cout << fmt::format("      decisions: {}\n", fmt::join(p["decisions"].get<std::vector<std::string>>(), ", "));
      }
    }
  });
}

}  // namespace clcp::cli
