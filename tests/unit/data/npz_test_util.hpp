// Test helpers for .npy/.npz: hand-made .npy payloads (any header text) and zip archives of raw members, written
// with libzip directly so that a test can put bytes into an archive that encode_npz would refuse to produce.
#pragma once
#include <zip.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace clcp::test {

/// "\x93NUMPY" + version + length + header text (padded with spaces to a multiple of 16 plus '\n') + data.
inline std::string npy_bytes(const std::string& header_dict, const std::string& data, int major = 1) {
  std::string h = header_dict;
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 16) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  if (major == 1) {
    const uint16_t n = static_cast<uint16_t>(h.size());
    out.append(reinterpret_cast<const char*>(&n), 2);
  } else {
    const uint32_t n = static_cast<uint32_t>(h.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
  }
  return out + h + data;
}

template <typename T>
std::string raw_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// A zip archive (deflated, or stored when `deflate` is false) of the given (name, bytes) members, in order.
inline std::string zip_bytes(const std::vector<std::pair<std::string, std::string>>& members, bool deflate = true) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  if (!z) throw std::runtime_error("zip_bytes: cannot open");
  zip_source_keep(src);
  for (const auto& [name, bytes] : members) {
    zip_source_t* s = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    const zip_int64_t i = zip_file_add(z, name.c_str(), s, 0);
    if (i < 0) throw std::runtime_error("zip_bytes: cannot add " + name);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(i), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(z) != 0) throw std::runtime_error("zip_bytes: cannot close");
  zip_stat_t st;
  zip_stat_init(&st);
  zip_source_stat(src, &st);
  zip_source_open(src);
  std::string out(st.size, '\0');
  zip_source_read(src, out.data(), st.size);
  zip_source_close(src);
  zip_source_free(src);
  return out;
}

}  // namespace clcp::test
