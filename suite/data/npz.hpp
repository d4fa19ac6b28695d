// NumPy `.npz` archives (np.savez / np.savez_compressed): a zip file whose members are `<key>.npy` arrays (npy.hpp).
// Read and written with libzip.
//
// Reading: parse_npz is pure (bytes in → arrays out: libzip opens the bytes from memory, no files, no global state),
// so a libFuzzer harness can call it. Members not ending in ".npy" and folder entries are ignored, as np.load lists
// them but no array key maps to them. Member order is the archive's order.
//
// Writing: encode_npz produces what np.savez_compressed produces for the same arrays — members `<key>.npy` in the
// given order, each deflate-compressed (zlib level 6, Python zipfile's default), npy format 1.0 headers padded as
// numpy pads them (npy.hpp), Unix permission bits 0600 as Python's zipfile sets for ZipFile.open(…, 'w'). Two
// deliberate differences keep the bytes reproducible: the member time stamps are fixed at 1980-01-01 00:00 (numpy
// writes the current local time), and no Zip64 extra field is written (numpy forces one per member; both load the same
// with np.load and zipfile). The compressed streams come from libzip's zlib and may differ from Python's; the
// decompressed members are byte-identical to numpy's.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "suite/data/npy.hpp"

namespace clcp {

struct NpzMember {
  std::string key;  ///< array name without ".npy"
  NpyArray array;
};

struct NpzArchive {
  std::vector<NpzMember> members;  ///< archive order

  /// The array named `key`, or nullptr.
  const NpyArray* find(std::string_view key) const;
  /// Member keys in archive order.
  std::vector<std::string> keys() const;
};

/// Decoded members larger than this are refused (a damaged size field or a zip bomb; A2D2 members are < 1 MB).
inline constexpr uint64_t kMaxNpzMemberBytes = uint64_t{1} << 30;

/// Decodes every .npy member. `label` names the source in errors (usually the file path). Throws UserError (one line
/// naming `label` and, where it applies, the member) when: the bytes are not a zip archive (also a truncated file, which
/// loses the central directory); the archive is inconsistent; a member's deflate stream or CRC is damaged or shorter
/// than its declared size ("truncated member"); a member declares more than kMaxNpzMemberBytes; two members share a
/// key; or a member's .npy payload is invalid (parse_npy's errors, e.g. unsupported dtype, Fortran order, truncated
/// array data).
NpzArchive parse_npz(std::string_view bytes, std::string_view label);

/// Reads `path` and parse_npz's it with the path as label. Throws UserError if the file cannot be read.
NpzArchive read_npz(const std::filesystem::path& path);

/// Only the member keys and their .npy headers (dtype and shape; NpyArray::data empty), reading no more than each
/// member's header: for scanning thousands of archives. Same errors as parse_npz for the parts it reads.
std::vector<NpzMember> read_npz_headers(const std::filesystem::path& path);

/// The archive bytes (see above). Keys must be unique, non-empty and without '/'; throws std::invalid_argument
/// otherwise.
std::string encode_npz(const std::vector<NpzMember>& members);

/// encode_npz written atomically to `path` (suite/core/fsio.hpp write_atomic).
void write_npz(const std::filesystem::path& path, const std::vector<NpzMember>& members);

}  // namespace clcp
