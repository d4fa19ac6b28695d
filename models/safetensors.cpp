#include "models/safetensors.hpp"

#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>

#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"

namespace clcp {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; big-endian hosts unsupported");

namespace {

const std::map<std::string, torch::ScalarType>& dtype_table() {
  static const std::map<std::string, torch::ScalarType> t{
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  return t;
}

std::string dtype_name(torch::ScalarType s) {
  for (const auto& [name, type] : dtype_table())
    if (type == s) return name;
  return {};
}

}  // namespace

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  return parse_safetensors(read_file(path), path.string());
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& p) {
  if (bytes.size() < 8) fail("{}: truncated safetensors file ({} bytes, need an 8-byte header length); re-export it", p,
                             bytes.size());
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8)
    fail("{}: truncated safetensors file (header length {} but only {} bytes follow); re-download or re-export it", p,
         n, bytes.size() - 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: bad safetensors header JSON ({}); the file is not a safetensors file or is corrupt", p, e.what());
  }
  if (!header.is_object()) fail("{}: bad safetensors header JSON (not an object); the file is corrupt", p);
  const uint64_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;

  SafetensorsFile out;
  for (const auto& [key, info] : header.items()) {
    if (key == "__metadata__") {
      if (!info.is_object()) fail("{}: __metadata__ must be an object of strings; the file is corrupt", p);
      for (const auto& [mk, mv] : info.items()) {
        if (!mv.is_string()) fail("{}: __metadata__[{}] is not a string; the file is corrupt", p, mk);
        out.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets") ||
        !info["dtype"].is_string() || !info["shape"].is_array() || !info["data_offsets"].is_array() ||
        info["data_offsets"].size() != 2)
      fail("{}: tensor '{}' header entry needs dtype, shape and data_offsets [begin,end]; the file is corrupt", p, key);
    const auto dname = info["dtype"].get<std::string>();
    const auto it = dtype_table().find(dname);
    if (it == dtype_table().end())
      fail("{}: tensor '{}' has unknown dtype '{}' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL); convert it", p,
           key, dname);
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (const auto& d : info["shape"]) {
      if (!d.is_number_unsigned()) fail("{}: tensor '{}' has a non-integer or negative shape entry", p, key);
      // Sizes whose product overflows would reach LibTorch as an "empty" tensor of absurd shape (it then throws
      // its own error); such a header is corrupt.
      const uint64_t n = d.get<uint64_t>();
      if (n > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(numel, n, &numel))
        fail("{}: tensor '{}' has a shape whose element count overflows 64 bits; the file is corrupt", p, key);
      shape.push_back(static_cast<int64_t>(n));
    }
    uint64_t nbytes_check = 0;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(c10::elementSize(it->second)), &nbytes_check) ||
        nbytes_check > static_cast<uint64_t>(INT64_MAX))
      fail("{}: tensor '{}' has a shape whose byte size overflows; the file is corrupt", p, key);
    const auto& off = info["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail("{}: tensor '{}' data_offsets must be non-negative integers; the file is corrupt", p, key);
    const auto begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    const uint64_t nbytes = numel * c10::elementSize(it->second);
    if (begin > end || end > data_size)
      fail("{}: tensor '{}' data_offsets [{},{}) out of range (data section is {} bytes); the file is truncated or "
           "corrupt", p, key, begin, end, data_size);
    if (end - begin != nbytes)
      fail("{}: tensor '{}' data_offsets span {} bytes but shape×{} needs {}; the file is corrupt", p, key,
           end - begin, dname, nbytes);
    auto t = torch::empty(shape, torch::TensorOptions().dtype(it->second));
    if (nbytes) std::memcpy(t.data_ptr(), data + begin, nbytes);
    out.tensors.emplace(key, std::move(t));
  }
  return out;
}

std::map<std::string, torch::Tensor> load_safetensors(const std::filesystem::path& path) {
  return read_safetensors(path).tensors;
}

void save_safetensors(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<torch::Tensor> blobs;
  uint64_t offset = 0;
  for (const auto& [key, tensor] : tensors) {  // std::map → sorted keys
    if (key == "__metadata__") fail("{}: a tensor may not be named '__metadata__'; rename it", path.string());
    const auto dname = dtype_name(tensor.scalar_type());
    if (dname.empty())
      fail("{}: tensor '{}' has dtype {} which safetensors export does not support; convert it to a float or int "
           "dtype", path.string(), key, c10::toString(tensor.scalar_type()));
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[key] = {{"dtype", dname}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    blobs.push_back(std::move(t));
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string bytes(8 + text.size() + offset, '\0');
  const uint64_t n = text.size();
  std::memcpy(bytes.data(), &n, 8);
  std::memcpy(bytes.data() + 8, text.data(), text.size());
  char* dst = bytes.data() + 8 + text.size();
  for (const auto& t : blobs) {
    const auto nb = static_cast<size_t>(t.numel()) * t.element_size();
    if (nb) std::memcpy(dst, t.data_ptr(), nb);
    dst += nb;
  }
  write_atomic(path, bytes);
}

}  // namespace clcp
