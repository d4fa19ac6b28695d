// Training precision (issue 17): "fp32", or "bf16" — LibTorch's autocast with bfloat16 on the device's autocast key
// (CPU: matmul, linear, conv, bmm, baddbmm and scaled_dot_product_attention run in bf16; losses such as cross_entropy
// and nll_loss in fp32 — PyTorch's CPU autocast op lists), with fp32 master weights: parameters, gradients and the
// optimizer state stay float32, as torch.autocast("cpu", dtype=torch.bfloat16) in a PyTorch loop.
// On a CPU, bf16 needs AMX-BF16 or AVX512-BF16 (cpuid leaf 7): without either oneDNN would emulate it slower than
// fp32, so it is refused in one line.
#pragma once
#include <c10/core/DeviceType.h>

#include <string>

namespace clcp {

enum class Precision { kFp32, kBf16 };

/// "fp32" | "bf16" → Precision; UserError naming `where` (a file and key, or a flag) otherwise.
Precision parse_precision(const std::string& text, const std::string& where);
const char* precision_name(Precision p);

/// The CPU's bf16 matrix ISA as cpuid reports it: "amx_bf16", "avx512_bf16" or "none". The environment variable
/// CLCP_CPU_BF16_ISA (test hook) replaces the probe's answer.
std::string cpu_bf16_isa();

/// Throws UserError when `p` is bf16 on a CPU whose cpu_bf16_isa() is "none" (where: what asked for it).
void check_precision_supported(Precision p, c10::DeviceType device, const std::string& where);

/// Enables bf16 autocast on `device` for its scope when `p` is bf16 (nothing for fp32). Nesting-safe: restores the
/// previous state and clears the cast-weight cache when the outermost autocast region ends (torch.autocast's exit).
class AutocastScope {
 public:
  AutocastScope(Precision p, c10::DeviceType device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false, was_enabled_ = false;
  c10::DeviceType device_;
  c10::ScalarType was_dtype_{};
};

/// Turns autocast off on `device` for its scope (restoring the outer state): code that must stay fp32 under a bf16
/// protocol, e.g. the MinkUNet lidar tower (its hand-written sparse convolution mixes dtypes under autocast, and its
/// bf16 accuracy is not yet tested against the dense emulation).
class AutocastDisabled {
 public:
  explicit AutocastDisabled(c10::DeviceType device);
  ~AutocastDisabled();
  AutocastDisabled(const AutocastDisabled&) = delete;
  AutocastDisabled& operator=(const AutocastDisabled&) = delete;

 private:
  c10::DeviceType device_;
  bool was_enabled_;
};

}  // namespace clcp
