// The pretraining methods this build knows, by name. A method lives in suite/pretrain/methods/<name>/ and registers
// itself there with one static MethodRegistration (the methods library is linked whole, so no other file names it);
// a test may register one of its own the same way. `clcp-bench methods` lists them; `clcp-bench pretrain --protocol P`
// builds the method that P's "method" names; an init `<method>-<variant>@ep<NN>` is resolved through the registry
// (the method parses its variant).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "suite/data/pretrain_data.hpp"
#include "suite/pretrain/method.hpp"
#include "suite/protocol/pretrain_protocol.hpp"

namespace clcp {

/// What a pretraining cell hands a method so it can build its model and its loaders.
struct MethodBuild {
  const PretrainProtocol* protocol = nullptr;  ///< resolved at the cell's scale, variant applied
  const PretrainData* data = nullptr;          ///< A2D2 pairs, or a folder of images (image-only methods)
  uint64_t seed = 0;
  std::string image_init = "random", lidar_init = "random";  ///< registry names or file:PATH, "random"
  int loader_threads = 1;
  int world = 1, rank = 0;            ///< rank r of W loads rows [r·B/W, (r+1)·B/W) of each train batch
  std::string negatives = "local";    ///< data parallel: "local" | "global" (contrastive methods)
};

/// A variant named inside an init name, as protocol overrides (dotted keys of the protocol file, e.g. "model.head"
/// = "mlp") and the batch size the name states.
struct MethodVariant {
  std::vector<std::pair<std::string, nlohmann::json>> set;
  std::optional<int64_t> batch_size;
};

struct MethodInfo {
  std::string name;                   ///< "clcp": the first word of its init names (clcp-<variant>@ep<NN>)
  std::string summary;                ///< one line
  std::vector<std::string> towers;    ///< init slots it trains: "image" (always first), "lidar"
  std::string data;                   ///< "camera-lidar pairs" | "images"
  std::string default_protocol;       ///< the protocol chained init names bind when a run names none (clcp_a2d2)
  /// Builds the model (keyed init by seed, then the named inits) and the loaders of a cell. UserError for data the
  /// method cannot use (e.g. no lidar clouds for a camera–lidar method).
  std::function<std::unique_ptr<PretrainMethod>(const MethodBuild&)> build;
  /// The variant part of the cell's and its encoders' names, from the resolved protocol (CLCP: "b256-mlp-fb").
  std::function<std::string(const PretrainProtocol&)> variant_name;
  /// Parses the <variant> of "<name>-<variant>@ep<NN>"; nullopt when it is not one of this method's.
  std::function<std::optional<MethodVariant>(const std::string& variant)> parse_variant;
  /// A one-line summary of the last epoch's record for the log ("val loss 2.71 (chance 2.77), R@1 …").
  std::function<std::string(const nlohmann::json& last_epoch)> headline;
  /// The variants' grammar for users, e.g. "b<B>-<lin|mlp>[-fb][-aug][-shuf]" ("" → "<variant>").
  std::string variant_grammar;
  /// Optional: checks the resolved protocol's method_config (UserError), so that `pretrain` refuses a bad one before
  /// any cell starts; build() checks it again.
  std::function<void(const PretrainProtocol&)> check_config;
};

/// Registers a method; a second method of the same name is a programming error (std::logic_error).
struct MethodRegistration {
  explicit MethodRegistration(MethodInfo info);
};

/// Every registered method, sorted by name.
std::vector<const MethodInfo*> registered_methods();
/// The method of that name; UserError naming the known ones otherwise.
const MethodInfo& find_method(const std::string& name);
/// The method whose init names start with "<name>-", or null.
const MethodInfo* method_of_init(const std::string& init);

}  // namespace clcp
