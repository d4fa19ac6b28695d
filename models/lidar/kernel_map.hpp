// Kernel maps of sparse convolution: which input row feeds which output row through which kernel offset.
// Semantics of torchsparse 1.4.0 (sparse_conv_reference.md §1.2–1.6), built from EXACT packed integer keys with sort +
// binary search (torchsparse hashes with FNV-1a and compares hashes only, so a collision would silently pair wrong
// voxels; here results equal torchsparse's whenever it had no collision, §1.3). Everything is vectorised LibTorch ops,
// so the same code runs on CPU and CUDA tensors, and is deterministic.
//
// Coordinates are int64 [N, 4] (x, y, z, b), batch last, level-0 voxel units.
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace clcp::lidar {

/// Bits per spatial axis and for the batch index in a packed key: key = b·2^54 + x·2^36 + y·2^18 + z, so keys sort
/// lexicographically by (b, x, y, z) — the row order of torchsparse's spdownsample (§1.5).
inline constexpr int64_t kAxisBits = 18;
inline constexpr int64_t kAxisLimit = int64_t{1} << kAxisBits;  ///< 0 ≤ x, y, z < 262,144 (13.1 km at 5 cm)
inline constexpr int64_t kBatchLimit = 512;                     ///< 0 ≤ b < 512

/// int64 [N, 4] → int64 [N] packed keys. Coordinates must be within the limits above (see check_coords).
torch::Tensor pack_keys(const torch::Tensor& coords);
/// int64 [N] packed keys → int64 [N, 4] coordinates.
torch::Tensor unpack_keys(const torch::Tensor& keys);
/// Throws UserError "<what>: …" when coords is not [N, 4] integer or a value is outside the packing limits.
void check_coords(const torch::Tensor& coords, const char* what);

/// torchsparse 1.4.0 kernel offsets in kernel-index order (§1.2), in units of the tensor stride:
/// kernel 3 → 27 offsets, z outer, y, x inner (x fastest): k = (dz+1)·9 + (dy+1)·3 + (dx+1), 13 = (0, 0, 0);
/// kernel 2 → 8 offsets, x outer, y, z inner (z fastest): k = dx·4 + dy·2 + dz.
std::vector<std::array<int64_t, 3>> kernel_offsets(int64_t kernel_size);

/// Input/output row pairs of one kernel offset: out[out_rows[j]] += in[in_rows[j]] · W[k]. Rows ascending by output
/// (torchsparse's nonzero order); each output row appears at most once per offset.
struct OffsetPairs {
  int64_t k = 0;
  torch::Tensor in_rows, out_rows;  ///< int64 [M_k]
};

/// The 3×3×3 stride-1 ("submanifold") map at tensor stride s: outputs = inputs (same rows, same order); output o
/// receives input i through offset k when coords[i] = coords[o] + s·offset_k (same batch). Offsets without any pair
/// are omitted; the centre offset (13) is the identity and is listed first with identity = true.
struct KernelMap {
  int64_t n_in = 0, n_out = 0;
  bool centre_identity = false;      ///< the first entry is offset 13 with in_rows = out_rows = 0..N−1
  std::vector<OffsetPairs> offsets;  ///< in ascending k after the centre
};
KernelMap submanifold_map(const torch::Tensor& coords, int64_t stride);

/// The 2×2×2 stride-2 downsampling s → 2s (§1.5): every input voxel c has ONE parent p = floor(c / 2s)·2s on x, y, z
/// (batch unchanged) and a child index k = ((x/s)&1)·4 + ((y/s)&1)·2 + ((z/s)&1), so out[p] = Σ in[p + s·offset_k]·W[k].
/// The output coordinates are the distinct parents sorted by (b, x, y, z). The same map, read backwards, is the
/// transposed convolution 2s → s: out_fine[i] = in_coarse[parent[i]] · W[child[i]] (§1.6).
struct DownsampleMap {
  torch::Tensor out_coords;          ///< int64 [N_out, 4]
  torch::Tensor parent;              ///< int64 [N_in]: output row of each input row
  torch::Tensor child;               ///< int64 [N_in]: kernel index 0..7 of each input row
  std::vector<OffsetPairs> offsets;  ///< per child index present: in_rows (fine) ascending, out_rows = parent[in_rows]
};
DownsampleMap downsample_map(const torch::Tensor& coords, int64_t stride);

}  // namespace clcp::lidar
