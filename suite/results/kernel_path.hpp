// The kernel path of a run: what decides which CPU kernels LibTorch dispatches to, and so whether two runs can be
// bit-identical (DESIGN.md "Determinism": same build, same threads, same inputs → same bytes). Recorded in every
// bundle's provenance.json as "kernel_path"; the exact regression gate compares it before it compares bytes.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace clcp {

/// {"threads": N, "libtorch": TORCH_VERSION, "cpu_capability": at::get_cpu_capability() ("AVX512", "AVX2",
/// "DEFAULT"; ATEN_CPU_CAPABILITY can lower it), "cpu_vendor": /proc/cpuinfo vendor_id (MKL takes other paths on
/// non-Intel CPUs), "isa": the sorted x86 flags among fma, f16c, avx, avx2, avx512*, avx_vnni, amx_* that the CPU
/// reports, "mkl": at::get_mkl_version(), "mkldnn": at::get_mkldnn_version()}.
nlohmann::json kernel_path(int threads);

/// "" when `a` and `b` name the same kernel path (every key above equal), else the differences in one line, e.g.
/// "threads 2 → 4, cpu_capability AVX512 → AVX2". Keys missing on one side count as different.
std::string kernel_path_difference(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace clcp
