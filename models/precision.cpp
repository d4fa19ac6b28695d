#include "models/precision.hpp"

#include <ATen/autocast_mode.h>
#include <cpuid.h>

#include <cstdlib>

#include "suite/core/error.hpp"

namespace clcp {

Precision parse_precision(const std::string& text, const std::string& where) {
  if (text == "fp32") return Precision::kFp32;
  if (text == "bf16") return Precision::kBf16;
  fail("{}: precision \"{}\": expected \"fp32\" or \"bf16\"", where, text);
}

const char* precision_name(Precision p) { return p == Precision::kBf16 ? "bf16" : "fp32"; }

std::string cpu_bf16_isa() {
  if (const char* forced = std::getenv("CLCP_CPU_BF16_ISA"); forced && *forced) return forced;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22))) return "amx_bf16";  // EDX bit 22: AMX-BF16
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5))) return "avx512_bf16";  // EAX bit 5: AVX512_BF16
  return "none";
}

void check_precision_supported(Precision p, c10::DeviceType device, const std::string& where) {
  if (p != Precision::kBf16 || device != c10::DeviceType::CPU) return;
  if (cpu_bf16_isa() == "none")
    fail("{}: bf16 needs a CPU with AMX-BF16 or AVX512-BF16 (cpuid reports neither here, where bf16 would run "
         "emulated and slower than fp32); use precision fp32 on this machine", where);
}

AutocastScope::AutocastScope(Precision p, c10::DeviceType device) : device_(device) {
  if (p != Precision::kBf16) return;
  active_ = true;
  was_enabled_ = at::autocast::is_autocast_enabled(device);
  was_dtype_ = at::autocast::get_autocast_dtype(device);
  at::autocast::set_autocast_enabled(device, true);
  at::autocast::set_autocast_dtype(device, at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_, was_enabled_);
  at::autocast::set_autocast_dtype(device_, was_dtype_);
}

AutocastDisabled::AutocastDisabled(c10::DeviceType device)
    : device_(device), was_enabled_(at::autocast::is_autocast_enabled(device)) {
  at::autocast::set_autocast_enabled(device, false);
}

AutocastDisabled::~AutocastDisabled() { at::autocast::set_autocast_enabled(device_, was_enabled_); }

}  // namespace clcp
