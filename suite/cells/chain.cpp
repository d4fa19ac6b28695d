#include "suite/cells/chain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"
#include "suite/protocol/protocol.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;

namespace {

// "<method>-<variant>@ep<NN>" of a registered method whose parse_variant accepts <variant>, else nullopt.
struct InitName {
  const MethodInfo* method;
  MethodVariant variant;
  std::string variant_text;
  int64_t epoch;
};
std::optional<InitName> parse_init_name(const std::string& init) {
  static const std::regex re(R"(^([a-z0-9_]+)-(.+)@ep(\d+)$)");
  std::smatch m;
  if (!std::regex_match(init, m, re)) return std::nullopt;
  const MethodInfo* method = method_of_init(init);
  if (!method || !method->parse_variant) return std::nullopt;
  auto variant = method->parse_variant(m[2].str());
  if (!variant)  // a registered method, but not one of its variants: say what its names look like and what makes one
    fail("--init {}: method {} has no variant '{}' (its init names are {}-{}@ep<N>); `clcp-bench pretrain --protocol "
         "{}` prints the names of the encoders it exports",
         init, method->name, m[2].str(), method->name,
         method->variant_grammar.empty() ? "<variant>" : method->variant_grammar,
         method->default_protocol.empty() ? "<protocol>" : method->default_protocol);
  return InitName{method, std::move(*variant), m[2].str(), std::stoll(m[3].str())};
}

}  // namespace

void bind_default_pretrain(Protocol& p) {
  if (!p.pretrain.is_null()) return;
  for (const auto& init : p.inits) {
    const auto name = parse_init_name(init);
    if (!name || name->method->default_protocol.empty()) continue;
    const std::string& protocol = name->method->default_protocol;
    const auto scales = list_scales(protocol_path(protocol));
    const bool has = std::any_of(scales.begin(), scales.end(), [&](const auto& s) { return s.first == p.scale; });
    p.bind_pretrain(protocol, has ? p.scale : "full");
    return;
  }
}

std::optional<ChainedInit> parse_chained_init(const std::string& init, const Protocol& p) {
  const auto name = parse_init_name(init);
  if (!name) return std::nullopt;
  const std::string method = name->method->name;
  if (p.pretrain.is_null())
    fail("--init {}: an encoder pretrained by clcp-bench ({}), but protocol {} names no pretraining", init, method,
         p.name);
  ChainedInit c;
  c.init = init;
  PretrainOptions o;
  o.protocol = p.pretrain.at("protocol").get<std::string>();
  o.scale = p.pretrain.at("scale").get<std::string>();
  o.set = name->variant.set;
  if (load_pretrain_protocol(o.protocol, o.scale).method != method) {
    // The protocol binds another method's pretraining (dg_acdc smoke: clcp_a2d2): this init's method pretrains with
    // its own protocol at that scale (else full). Its cell id, which the finetune cell's covers, names its recipe.
    const std::string own = name->method->default_protocol;
    if (own.empty())
      fail("--init {}: protocol {} chains {} pretraining and method {} names no protocol of its own; bind one in "
           "the protocol's \"pretrain\" block", init, p.name, o.protocol, method);
    const auto scales = list_scales(protocol_path(own));
    const bool has = std::any_of(scales.begin(), scales.end(), [&](const auto& sc) { return sc.first == o.scale; });
    o.protocol = own;
    if (!has) o.scale = "full";
  }
  c.protocol = resolve_pretrain_protocol(o);
  c.epoch = name->epoch;
  const auto& pp = c.protocol;
  if (name->variant.batch_size && *name->variant.batch_size != pp.batch_size)
    fail("--init {}: names a batch-{} pretraining, but {} at scale {} pretrains at batch {}; use {}-b{}{} or "
         "another scale", init, *name->variant.batch_size, pp.name, pp.scale, pp.batch_size, method, pp.batch_size,
         method == "clcp" ? "-…" : "");
  if (c.epoch >= pp.epochs)
    fail("--init {}: epoch {} is beyond {} scale {}'s epochs 0..{}", init, c.epoch, pp.name, pp.scale, pp.epochs - 1);
  const auto& keep = pp.keep_epochs;
  if (c.epoch != pp.epochs - 1 && std::find(keep.begin(), keep.end(), c.epoch) == keep.end())
    fail("--init {}: epoch {} is not one {} scale {} keeps (train.keep_epochs {}, and the last, {}); epochs are fixed "
         "in the protocol, never chosen by target results", init, c.epoch, pp.name, pp.scale,
         fmt::format("[{}]", fmt::join(keep, ", ")), pp.epochs - 1);
  const std::string made = find_method(pp.method).variant_name(pp);
  if (made != name->variant_text)
    fail("--init {}: {} at scale {} with that variant's settings makes {}-{}@epNN, not {}-{}; name the variant as "
         "`clcp-bench pretrain --protocol {} --scale {}` prints it", init, pp.name, pp.scale, method, made, method,
         name->variant_text, pp.name, pp.scale);
  return c;
}

std::optional<ChainedInit> parse_pretrain_chain(const std::string& init, const std::string& scale) {
  const auto name = parse_init_name(init);
  if (!name || name->method->default_protocol.empty()) return std::nullopt;
  const std::string& own = name->method->default_protocol;
  const auto scales = list_scales(protocol_path(own));
  const bool has = std::any_of(scales.begin(), scales.end(), [&](const auto& sc) { return sc.first == scale; });
  Protocol p;
  p.name = "the pretraining's inits.image";
  p.scale = scale;
  p.pretrain = nlohmann::json{{"protocol", own}, {"scale", has ? scale : "full"}};
  return parse_chained_init(init, p);
}

std::string chained_init_identity(const PretrainCellSpec& spec, int64_t epoch) {
  return fmt::format("chained:{}/{}@ep{}", spec.protocol, spec.id(), epoch);
}

std::optional<ChainedExport> chained_export(const std::string& identity, const fs::path& out) {
  static const std::regex re(R"(^chained:([^/]+)/([^@]+)@ep(\d+)$)");
  std::smatch m;
  if (!std::regex_match(identity, m, re)) return std::nullopt;
  ChainedExport e;
  e.bundle = out / m[1].str() / m[2].str();
  e.file = encoder_export_path(e.bundle, std::stoll(m[3].str()));
  return e;
}

}  // namespace clcp::cells
