// Reads the tensors of a weights file: safetensors, or a PyTorch zip checkpoint (torch.save, PyTorch >= 1.6) through
// LibTorch's own unpickler (torch::jit::Unpickler; no hand-written unpickler). Storages are mapped to the CPU whatever
// device they were saved from (torch.load(map_location='cpu')).
//
// data.pkl first goes through rewrite_pickle_for_libtorch (pickle_rewrite.hpp), so these load too:
// `collections.OrderedDict` — every `torch.save(model.state_dict())`, LIP-Loc's best.pth, timm .pth, the
// `state_dict`/`meta` of mmseg/mmengine and Lightning files (LibTorch alone turns it into None, pytorch#100741; its
// `_metadata` BUILD state is kept under kPickleBuildStateKey, never as a tensor) — and pickle protocols 3–5
// (torch.save(..., pickle_protocol=4)), and other dict subclasses filled by SETITEMS (Lightning's AttributeDict
// `hyper_parameters`, addict/mmengine ConfigDict, collections.defaultdict(list)) become plain dicts. Then LibTorch rebuilds plain dicts, lists, tuples, str/int/float/bool/None,
// tensors, and instances of Python classes from importable modules (NEWOBJ + BUILD, e.g. a `class Config: …` in
// Lightning's hyper_parameters, or REDUCE with arguments: sets, protocol-2 bytes) as placeholder objects that are
// ignored. What still fails, reported by name with the README's one-line safetensors conversion: classes defined in
// the saving script (`__main__.X`, reserved by LibTorch), objects rebuilt with arguments and then state (REDUCE +
// BUILD: numpy arrays, dtypes and scalars, named by class), dict subclasses the rewrite cannot prove safe (a
// defaultdict whose factory is not one global, a dict class also used as a value: LibTorch makes an object that
// SETITEMS cannot fill), ints longer
// than 64 bit, opcodes LibTorch lacks (protocol 3+ bytes, sets/frozensets in protocol 4, POP/DUP of recursive
// objects, protocol 0/1 text opcodes), and the legacy (pre-1.6, non-zip) torch.save format.
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
/// unpickler cannot rebuild, the Python class, construct or opcode (see above) and the conversion one-liner.
CheckpointFile read_checkpoint(const std::filesystem::path& path);

/// Checks only that `path` is a file whose content is a torch.save zip, a legacy torch.save pickle (refused, with
/// the conversion) or plausibly safetensors, from its first bytes. Otherwise throws UserError "<file>: not a weights
/// file (safetensors or torch.save zip): it is a PNG image; …" (sniff.hpp names JSON, HTML, text, empty, …). Cheap:
/// `run` calls it for every init before any data is read.
void check_weights_format(const std::filesystem::path& path);

/// read_checkpoint for bytes in memory (a torch.save zip when they start with "PK\3\4", else safetensors); `shown`
/// names them in errors. The entry point of the fuzz harness tests/fuzz/fuzz_torch_zip.cpp.
CheckpointFile read_checkpoint_bytes(const std::string& bytes, const std::string& shown);

/// read_checkpoint(path).tensors.
std::map<std::string, torch::Tensor> read_tensor_file(const std::filesystem::path& path);

}  // namespace clcp
