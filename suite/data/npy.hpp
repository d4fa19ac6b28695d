// The NumPy `.npy` array format (numpy/lib/format.py, NEP 1), the subset real data sets use: format versions 1.0 and
// 2.0 (3.0 only differs by a UTF-8 header and is accepted too), little-endian `<f8 <f4 <i8 <i4` and `|u1`, C order,
// any shape including 0-d and empty. A file is
//   "\x93NUMPY" major minor  header_len (uint16 LE for 1.0, uint32 LE for 2.0/3.0)
//   "{'descr': '<f8', 'fortran_order': False, 'shape': (8196, 3), }" padded with spaces, ending in '\n'
//   raw element bytes, C order.
// encode_npy writes exactly what numpy ≥ 1.24's np.save writes for these dtypes (verified byte-for-byte against numpy
// 1.24.4 and 2.3.5): version 1.0; keys in sorted order; `repr` of the shape tuple; 21 − len(str(shape[0])) spaces of
// growth room when ndim > 0 (numpy's GROWTH_AXIS_MAX_DIGITS); then spaces so that magic + length + header is a
// multiple of 64 bytes (ARRAY_ALIGN), the last byte '\n'. Older numpy (e.g. the real A2D2 files) aligned to 16 bytes
// without growth room; the reader accepts any padding.
//
// parse_npy is pure (bytes in, array out, no I/O, no global state) so a fuzzer can call it directly.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clcp {

enum class NpyDtype { kF8, kF4, kI8, kI4, kU1 };

/// "<f8", "<f4", "<i8", "<i4", "|u1".
std::string_view npy_descr(NpyDtype dtype);
/// Bytes per element: 8, 4, 8, 4, 1.
size_t npy_itemsize(NpyDtype dtype);

/// A decoded array: element bytes little-endian, C order, numel()·itemsize bytes.
struct NpyArray {
  NpyDtype dtype = NpyDtype::kF8;
  std::vector<int64_t> shape;  ///< empty = 0-d (one element)
  std::string data;            ///< raw element bytes

  int64_t numel() const;
  /// A torch tensor of the matching dtype (float64, float32, int64, int32, uint8) and shape, owning a copy.
  torch::Tensor to_tensor() const;
  /// Every element converted to double, in C order (exact for f8/f4/i4/u1 and for |i8| ≤ 2^53).
  std::vector<double> to_doubles() const;
};

/// Parses one .npy payload. `label` names the source in errors (e.g. "scan.npz member points.npy"). Throws UserError
/// "<label>: <what>; <fix>" for: a missing or wrong magic, an unknown version, a truncated or non-ASCII header, a
/// header that is not the dict numpy writes, an unsupported dtype (names it and the supported ones; '>' big-endian
/// included), fortran_order True, a negative shape entry, or data shorter/longer than the shape needs ("truncated").
NpyArray parse_npy(std::string_view bytes, std::string_view label);

/// Parses only the header of a .npy payload that may be cut after its header (used to check members without
/// decompressing them); `data` of the result is empty. `header_bytes` receives the header length (magic included).
/// Throws like parse_npy for header problems.
NpyArray parse_npy_header(std::string_view bytes, std::string_view label, size_t* header_bytes = nullptr);

/// The .npy bytes numpy's np.save writes for this array (format 1.0, see above). Throws std::invalid_argument if
/// data.size() does not match the shape.
std::string encode_npy(const NpyArray& array);

/// Builds an NpyArray from a contiguous CPU tensor of float64/float32/int64/int32/uint8 (shape copied).
NpyArray npy_from_tensor(const torch::Tensor& tensor);

}  // namespace clcp
