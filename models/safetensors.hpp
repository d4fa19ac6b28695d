// The safetensors file format (huggingface/safetensors): 8-byte little-endian header length N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end)}, "__metadata__": {str: str}}, then the raw little-endian
// tensor bytes; offsets are relative to the end of the header.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace clcp {

struct SafetensorsFile {
  std::map<std::string, torch::Tensor> tensors;   // CPU, contiguous, dtype as stored
  std::map<std::string, std::string> metadata;    // "__metadata__" (empty if absent)
};

/// Reads a safetensors file. Dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL.
/// Throws UserError naming the file for: missing/unreadable file, truncated file, bad header JSON, offsets out of
/// range or not matching shape×dtype, unknown dtype, non-string metadata.
SafetensorsFile read_safetensors(const std::filesystem::path& path);
/// The same for bytes in memory; `shown` names them in errors (the fuzz harness tests/fuzz/fuzz_safetensors.cpp).
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& shown);
std::map<std::string, torch::Tensor> load_safetensors(const std::filesystem::path& path);

/// Writes tensors (made contiguous, copied to CPU) in sorted key order, header padded with spaces to a multiple of 8
/// bytes (as Python safetensors does), atomically via clcp::write_atomic. Throws UserError naming the file and key for
/// an unsupported dtype (e.g. complex) or a key named "__metadata__".
void save_safetensors(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace clcp
