// Chained inits: a finetune init named "<method>-<variant>@ep<N>" — a method registered in
// suite/pretrain/methods/registry.hpp, a variant that method parses into protocol overrides (CLCP:
// "b<B>-<lin|mlp>[-fb][-aug]", e.g. clcp-b256-mlp-fb@ep19, the thesis's Table 4.3 rows) — is the image encoder exported
// after 0-based epoch N by the pretraining cell of that variant of the protocol's pretraining (Protocol::pretrain;
// default the method's first protocol at the same scale, or full). `clcp-bench run` plans that
// pretraining cell in front of the finetune cells that use it and runs it when it is not done yet.
//
// Identity: before the pretraining has run its file's sha256 is unknown, so the finetune cell's init_sha256 is
// "chained:<pretrain protocol>/<pretrain cell id>@ep<N>" — the pretraining cell id covers its recipe, inits, data and
// seed, which decide the exported bytes; the file's real sha256 is recorded in the finetune bundle's
// provenance.json together with the pretraining bundle's path.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "suite/cells/pretrain_cell.hpp"
#include "suite/protocol/protocol.hpp"

namespace clcp::cells {

struct ChainedInit {
  std::string init;            ///< as named
  PretrainProtocol protocol;   ///< the pretraining protocol with the variant's settings applied
  int64_t epoch = 0;           ///< 0-based export epoch
};

/// The pretraining variant and epoch an init names, or nullopt when it is not a chained name (registry names such as
/// clcp@ep19 and files are not). `p.pretrain` must be bound (bind_default_pretrain). Throws UserError for a name of
/// the pattern whose batch differs from the pretraining scale's, whose epoch is beyond its epochs or not kept, or whose
/// variant that protocol does not make. When `p.pretrain` binds another method's protocol (dg_acdc smoke binds
/// clcp_a2d2), the init's method pretrains with its own default protocol at that scale (else full).
std::optional<ChainedInit> parse_chained_init(const std::string& init, const Protocol& p);

/// A pretraining run whose image init names another pretraining's exported encoder, e.g. a SimSiam run started from
/// simclr-b16@ep7 (the thesis's chaining method, methods_reference.md §3.1): that encoder's pretraining — its method's
/// own protocol at `scale` if that scale exists there, else full. nullopt when `init` is not such a name; UserError
/// as parse_chained_init.
std::optional<ChainedInit> parse_pretrain_chain(const std::string& init, const std::string& scale);

/// When `p` names no pretraining and one of its inits has the chained pattern: binds that method's first protocol
/// at p.scale if that scale exists there, else at full.
void bind_default_pretrain(Protocol& p);

/// "chained:<protocol>/<cell id>@ep<N>" for a finetune cell spec; parsed back by chained_export.
std::string chained_init_identity(const PretrainCellSpec& spec, int64_t epoch);
/// For an init_sha256 of the form above: the exported encoder OUT/<protocol>/<id>/export/image_encoder_epochNN
/// .safetensors and the pretraining bundle. nullopt for any other identity.
struct ChainedExport {
  std::filesystem::path bundle, file;
};
std::optional<ChainedExport> chained_export(const std::string& init_identity, const std::filesystem::path& out);

}  // namespace clcp::cells
