// Reads the tensors of a weights file: safetensors, or a PyTorch zip checkpoint (torch.save, PyTorch ≥ 1.6) through
// LibTorch's own unpickler (torch::jit::readArchiveAndTensors; no hand-written pickle parser). Storages are mapped to
// the CPU whatever device they were saved from (torch.load(map_location='cpu')).
//
// What LibTorch's unpickler (2.x, torch/csrc/jit/serialization/unpickler.cpp) can rebuild, and therefore what loads:
// plain dicts, lists, tuples, str/int/float/bool/None, tensors; instances of Python classes from importable modules
// pickled as NEWOBJ + BUILD (a plain `class Config: …` instance, e.g. in Lightning's hyper_parameters) become
// placeholder objects through a class resolver and are ignored. What it cannot rebuild, reported by name with the
// README's one-line safetensors conversion: `collections.OrderedDict` (mapped to None, so the following SETITEMS
// fails — this is every `torch.save(model.state_dict())`, LIP-Loc's files and Lightning/mmengine `state_dict`
// entries, pytorch#100741), classes defined in the saving script (`__main__.X`, reserved by LibTorch), objects rebuilt
// with arguments and then state (REDUCE + BUILD: numpy arrays, dtypes and scalars, named by class), dict subclasses,
// ints longer than 64 bit, and the legacy (pre-1.6, non-zip) torch.save format.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace clcp {

struct CheckpointFile {
  std::map<std::string, torch::Tensor> tensors;  ///< CPU tensors of the selected state dict, dtype as stored
  std::string container;                         ///< "safetensors" | "torch-zip"
  std::string wrapper;  ///< where the tensors sat: "" (top level), "state_dict", "model", "lightning" (state_dict)
  std::vector<std::string> placeholders;  ///< Python classes resolved to placeholder objects ("module.qualname")
};

/// The one-line Python conversion to safetensors quoted in errors and README.md ("Weights").
extern const char* const kConvertOneLiner;

/// Reads `path` (by content: zip magic → torch zip checkpoint, else safetensors). For a pickle the top level may be
/// the state dict itself, {'state_dict': …} (Lightning, mmengine), or {'model': …}; only tensor values are kept
/// (e.g. `_metadata`, `meta`, optimizer state are skipped). Throws UserError naming the file and, for a pickle the
/// unpickler cannot rebuild, the Python class or construct (see above) and the conversion one-liner.
CheckpointFile read_checkpoint(const std::filesystem::path& path);

/// read_checkpoint(path).tensors.
std::map<std::string, torch::Tensor> read_tensor_file(const std::filesystem::path& path);

}  // namespace clcp
