// Protocols are data (DESIGN.md "Contracts"). A protocol file (protocols/<name>.json) names datasets, splits, model,
// inits, finetune modes, optimiser, schedule, pipeline, inference, metrics and seeds, plus named scales whose
// "overrides" are deep-merged over the base. Unknown keys are errors. The resolved recipe (everything except the
// grid dimensions inits × finetune_modes × seeds and free text) is written canonically and hashed: the protocol
// fingerprint. Cells with different fingerprints are never compared.
#pragma once
#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite/protocol/overrides.hpp"

namespace clcp {

struct PipelineSpec {
  std::array<int64_t, 2> resize_scale{2048, 1024};  ///< (w, h) box of mmseg RandomResize, pixels
  std::array<double, 2> ratio_range{0.5, 2.0};      ///< RandomResize ratio r ~ U[lo, hi)
  std::array<int64_t, 2> crop{224, 224};            ///< (h, w) RandomCrop, pixels
  double cat_max_ratio = 0.75;
  double flip_prob = 0.5;
  bool photometric = true;
  std::array<double, 3> mean{123.675, 116.28, 103.53};  ///< RGB, 0..255 scale
  std::array<double, 3> std{58.395, 57.12, 57.375};
};

struct InferenceSpec {
  std::array<int64_t, 2> resize_scale{2048, 1024};  ///< (w, h) keep-ratio test resize
  std::array<int64_t, 2> crop{224, 224};            ///< (h, w) slide window
  std::array<int64_t, 2> stride{168, 168};          ///< (h, w) slide stride
  int64_t batch_windows = 8;                        ///< windows per forward pass
};

struct Protocol {
  std::string name, description, scale, scale_description;
  int64_t version = 1;
  std::filesystem::path file;
  // datasets
  std::string source_dataset, source_train_split, source_eval_split;
  std::string target_dataset, target_split;
  std::vector<std::string> target_conditions;
  // model
  std::string model_name;
  int64_t num_classes = 19, img_size = 224;
  double backbone_drop_path_rate = 0.0, head_drop_path_rate = 0.1;
  // grid
  std::vector<std::string> inits, finetune_modes;
  std::vector<int64_t> seeds;
  // optimisation
  double lr = 0.01, momentum = 0.9, weight_decay = 0.0, poly_power = 0.9, eta_min = 1e-4;
  int64_t max_iters = 80000, batch_size = 8, checkpoint_interval = 8000, log_interval = 100;
  /// "fp32" | "bf16" (models/precision.hpp): the finetune's training precision (evaluation runs in fp32). In the recipe,
  /// and so in the fingerprint and every cell id, only when it is not fp32 (fp32 fingerprints predate the key).
  std::string precision = "fp32";
  PipelineSpec pipeline;
  InferenceSpec inference;
  int64_t ignore_index = 255;
  std::string target_aggregate = "pooled";
  nlohmann::json decisions = nlohmann::json::array();
  /// The pretraining that chained inits ("clcp-<variant>@ep<N>", suite/cli/chain.hpp) come from:
  /// {"protocol": "clcp_a2d2", "scale": "smoke", "fingerprint": <that pretraining protocol's>}, or null when the
  /// protocol names none. recipe_json() includes it, so the finetune fingerprint covers the pretraining recipe.
  nlohmann::json pretrain = nullptr;
  /// How `clcp-bench run` renders its report, or null: {"baseline": "<baselines/NAME.json>", "published_rows":
  /// {"<init>": "<a baseline row's experiment>"}}. published_rows says which published row a cell of a reduced
  /// scale stands for (smoke's epoch 3 for the thesis's Ep19), so the report puts it beside that row and says so.
  /// Presentation only: not in recipe_json(), so no fingerprint or cell id depends on it.
  nlohmann::json report = nullptr;
  /// Protocol key "controls": {"positive": [init...], "negative": [init...]}, each an init of the scale (UserError
  /// otherwise). A positive control must beat the reference init (random, else imagenet), a negative one must not;
  /// the report's sensitivity section and `compare` judge the scale by them (suite/stats/sensitivity.hpp).
  /// Analysis only: not in recipe_json(), so no fingerprint or cell id depends on it.
  std::vector<std::string> positive_controls, negative_controls;
  /// Sets `pretrain` from a pretraining protocol and scale (loads it: UserError for an unknown one).
  void bind_pretrain(const std::string& protocol, const std::string& pretrain_scale);

  /// The resolved recipe (no grid, no free text): canonical input of the fingerprint.
  nlohmann::json recipe_json() const;
  /// Everything resolved, including grid and decisions (written as plan.json).
  nlohmann::json to_json() const;
  /// sha256 of canonical recipe_json(), first 16 hex characters.
  std::string fingerprint() const;
  ProtocolOverrides overrides;  ///< the --set overrides applied (their effect is in the recipe; plans list them)
};

/// Directory holding the protocol files: $CLCP_PROTOCOLS_DIR, else <source>/protocols.
std::filesystem::path protocols_dir();
/// Resolves NAME (a file protocols/NAME.json) or a path to a .json file.
std::filesystem::path protocol_path(const std::string& name_or_path);
/// Names of all protocols in protocols_dir(), sorted.
std::vector<std::string> list_protocols();
/// Scale names and descriptions of a protocol file, in file order.
std::vector<std::pair<std::string, std::string>> list_scales(const std::filesystem::path& file);
/// Loads, merges the scale's overrides, validates strictly. Throws UserError naming the file and key for an unknown
/// protocol, unknown scale, unknown/missing key or a value of the wrong type or range.
/// `overrides` (--set, overrides.hpp) are applied after the scale's and checked the same way.
Protocol load_protocol(const std::string& name_or_path, const std::string& scale,
                       const ProtocolOverrides& overrides = {});
/// The same for a protocol already parsed as JSON; `file` is the name shown in errors and kept in Protocol::file.
/// (load_protocol = read_json + this; the fuzz harness tests/fuzz/fuzz_protocol.cpp drives it directly.)
Protocol protocol_from_json(nlohmann::json j, const std::filesystem::path& file, const std::string& scale,
                            const ProtocolOverrides& overrides = {});

}  // namespace clcp
