// Pretraining protocols (schema "clcp-bench/pretrain-protocol/1", e.g. protocols/clcp_a2d2.json): camera–lidar
// contrastive pretraining of the image encoder, as data. Same rules as the finetune protocols (protocol.hpp): unknown
// keys are errors, named scales deep-merge their overrides, and the resolved recipe (everything but the seeds, the
// inits and free text) is hashed into the fingerprint. The variant settings (head, lidar mode, augmentation) are part
// of the recipe; command-line overrides are applied before hashing (with_variant).
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite/protocol/overrides.hpp"

namespace clcp {

struct PretrainProtocol {
  std::string name, description, scale, scale_description;
  int64_t version = 1;
  std::filesystem::path file;
  /// The pretraining method (suite/pretrain/methods/registry.hpp). A file without the key is CLCP's (schema 1
  /// predates methods), and "clcp" stays out of the recipe so that those fingerprints are unchanged; every other
  /// method is in the recipe.
  std::string method = "clcp";
  ProtocolOverrides overrides;  ///< the --set overrides applied (their effect is in the recipe)
  /// An image-only method's own settings (the protocol's "method_config", in the recipe; the method validates it).
  /// Such a protocol's data holds dataset ("a2d2": the A2D2 camera frames; "images": a folder of images,
  /// suite/data/image_folder.hpp), val_ratio, image_size, mean, std; its model the image encoder; its inits
  /// the image one (lidar_init stays "random"); it has no retrieval section. CLCP's keep the layout below.
  nlohmann::json method_config = nullptr;
  // data (clcp_reference.md §1.2)
  std::string dataset = "a2d2";
  double val_ratio = 0.15;                   ///< last floor(n·val_ratio) pairs of each scene → val
  std::array<int64_t, 2> crop{896, 896};     ///< (h, w) random crop of the undistorted camera image, pixels
  int64_t image_size = 224;                  ///< the crop is resized to image_size² (INTER_LINEAR)
  std::string reflectance = "raw";           ///< "raw" (A2D2 0–255, as the thesis) | "unit" (÷255)
  std::array<double, 3> mean{123.675, 116.28, 103.53}, std{58.395, 57.12, 57.375};  ///< RGB, 0–255 scale
  bool augment = false;                      ///< the §1.3 image augmentations on train pairs
  /// "true" (each image with its own cloud) | "shuffled": each train image with another frame's cloud by a seeded
  /// derangement (the negative control; val pairs stay true, so retrieval shows what was learnt). Optional in the
  /// file; in the recipe only when "shuffled", so the fingerprints of files that predate it are unchanged.
  std::string pairing = "true";
  // model (§1.5–1.7)
  std::string head = "linear";               ///< lidar projection: "linear" | "mlp"
  int64_t embed_dim = 384;
  double voxel_size = 0.05, mlp_dropout = 0.1;
  std::string lidar_mode = "trainable";      ///< "trainable" | "frozen" (no gradients, not in the optimiser)
  std::string lidar_bn = "train";            ///< BatchNorm mode of a frozen lidar tower: "train" (thesis) | "eval"
  std::string temperature = "inv_exp";       ///< "inv_exp" (thesis) | "clip" (OpenCLIP)
  double temperature_init = 0.07;
  std::string image_init = "imagenet", lidar_init = "minkunet34-semantickitti";  ///< grid defaults (not hashed)
  // optimiser: AdamW, one parameter group (the clip form's logit_scale without weight decay)
  double lr = 1e-3, weight_decay = 1e-2, beta1 = 0.9, beta2 = 0.98, eps = 1e-8;
  // schedule, stepped once per epoch (PyTorch SequentialLR semantics, suite/pretrain/schedule.hpp)
  int64_t warmup_epochs = 5;     ///< LinearLR from warmup_start_lr to lr; 0 = none
  double warmup_start_lr = 1e-6; ///< absolute lr of epoch 0 (start_factor = warmup_start_lr / lr)
  int64_t t_0 = 1, t_mult = 2;   ///< CosineAnnealingWarmRestarts, epochs
  double eta_min = 1e-5;
  // loop
  int64_t epochs = 68, batch_size = 256;       ///< drop_last for train and val
  std::vector<int64_t> keep_epochs{11, 19, 35, 67};  ///< 0-based epochs whose checkpoints and exports are kept
  int64_t limit_train_batches = 0, limit_val_batches = 0;  ///< > 0: at most that many batches per epoch (Lightning's
                                                           ///< limit_*_batches; for the ci fixture), 0 = all
  /// "fp32" | "bf16" (models/precision.hpp): autocast around the method's forward and loss, fp32 master weights.
  /// In the recipe (fingerprint, cell id) only when not fp32.
  std::string precision = "fp32";
  std::vector<int64_t> retrieval_ks{1, 5, 10};
  std::vector<int64_t> seeds{0};
  nlohmann::json decisions = nlohmann::json::array();

  /// The resolved recipe: canonical input of the fingerprint.
  nlohmann::json recipe_json() const;
  /// recipe_json() + seeds, inits, decisions, fingerprint (written into plans and specs).
  nlohmann::json to_json() const;
  /// sha256 of canonical recipe_json(), first 16 hex characters.
  std::string fingerprint() const;
  /// "b<batch>-<lin|mlp>[-fb][-aug][-shuf]", the variant's part of an exported encoder's name (e.g. "b256-mlp-fb").
  std::string variant_name() const;
};

/// Loads protocols/NAME.json (or a path) at `scale`, then applies `overrides` (overrides.hpp). Throws UserError
/// naming the file and key for a wrong schema, an unknown/missing key, a value of the wrong type or out of range
/// (e.g. keep_epochs beyond epochs).
PretrainProtocol load_pretrain_protocol(const std::string& name_or_path, const std::string& scale,
                                        const ProtocolOverrides& overrides = {});
/// The same for a protocol already parsed as JSON; `file` is the name shown in errors (the fuzz harness
/// tests/fuzz/fuzz_protocol.cpp drives it directly).
PretrainProtocol pretrain_protocol_from_json(nlohmann::json j, const std::filesystem::path& file,
                                             const std::string& scale, const ProtocolOverrides& overrides = {});

/// The schema string of a protocol file ("clcp-bench/protocol/1", "clcp-bench/pretrain-protocol/1", …).
std::string protocol_schema(const std::string& name_or_path);

}  // namespace clcp
