#include "suite/cli/chain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"
#include "suite/protocol/protocol.hpp"

namespace clcp::cli {
namespace fs = std::filesystem;

namespace {
const std::regex& chained_re() {
  static const std::regex re(R"(^clcp-b(\d+)-(lin|mlp)(-fb)?(-aug)?@ep(\d+)$)");
  return re;
}
}  // namespace

void bind_default_pretrain(Protocol& p) {
  if (!p.pretrain.is_null()) return;
  if (std::none_of(p.inits.begin(), p.inits.end(), [](const std::string& i) { return std::regex_match(i, chained_re()); }))
    return;
  const auto scales = list_scales(protocol_path("clcp_a2d2"));
  const bool has = std::any_of(scales.begin(), scales.end(), [&](const auto& s) { return s.first == p.scale; });
  p.bind_pretrain("clcp_a2d2", has ? p.scale : "full");
}

std::optional<ChainedInit> parse_chained_init(const std::string& init, const Protocol& p) {
  std::smatch m;
  if (!std::regex_match(init, m, chained_re())) return std::nullopt;
  if (p.pretrain.is_null())
    fail("--init {}: a CLCP encoder pretrained by clcp-bench, but protocol {} names no pretraining", init, p.name);
  ChainedInit c;
  c.init = init;
  PretrainOptions o;
  o.protocol = p.pretrain.at("protocol").get<std::string>();
  o.scale = p.pretrain.at("scale").get<std::string>();
  o.head = m[2].str() == "mlp" ? "mlp" : "linear";
  o.lidar_mode = m[3].matched ? "frozen" : "trainable";
  o.augment = m[4].matched;
  c.protocol = resolve_pretrain_protocol(o);
  const int64_t batch = std::stoll(m[1].str());
  c.epoch = std::stoll(m[5].str());
  const auto& pp = c.protocol;
  if (batch != pp.batch_size)
    fail("--init {}: names a batch-{} pretraining, but {} at scale {} pretrains at batch {}; use clcp-b{}-… or "
         "another scale", init, batch, pp.name, pp.scale, pp.batch_size, pp.batch_size);
  if (c.epoch >= pp.epochs)
    fail("--init {}: epoch {} is beyond {} scale {}'s epochs 0..{}", init, c.epoch, pp.name, pp.scale, pp.epochs - 1);
  const auto& keep = pp.keep_epochs;
  if (c.epoch != pp.epochs - 1 && std::find(keep.begin(), keep.end(), c.epoch) == keep.end())
    fail("--init {}: epoch {} is not one {} scale {} keeps (train.keep_epochs {}, and the last, {}); epochs are fixed "
         "in the protocol, never chosen by target results", init, c.epoch, pp.name, pp.scale,
         fmt::format("[{}]", fmt::join(keep, ", ")), pp.epochs - 1);
  return c;
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

}  // namespace clcp::cli
