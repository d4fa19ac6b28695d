// Test-only fault injection for the kill-anywhere test (tests/unit/cli/test_kill_anywhere.cpp): named points in the
// write path, the finetune loop and the evaluation call fault_point(); when the environment variable CLCP_FAULT_KILL
// is "TEXT" or "TEXT#N", the N-th (default: first) point whose name contains TEXT sends SIGKILL to the process — the
// same death as an OOM kill or a node failure, at a chosen instant instead of a lucky one. Unset (every real run),
// a point costs one predictable branch.
//
// Point names: "write:<path>:open|half|synced|renamed" (write_atomic: temp file opened, half the bytes written,
// fsync'ed but not yet renamed, renamed into place), "append:<path>:half" (append_line: half a line written),
// "iteration:<t>:forward" (finetune, after the forward of 0-based iteration t), "eval:<split>:<i>" (after image i of
// a split is evaluated), "pretrain:rank<r>:step<s>" (data-parallel pretraining only, rank r before global step s).
//
// CLCP_FAULT_NAN selects points the same way for fault_nan(): the selected one reports true once, and the caller
// replaces its value by NaN — the pretraining loss's divergence check is tested this way, without hoping that a
// learning rate diverges. Point names: "pretrain:loss" (every training step's loss, in order).
#pragma once
#include <string_view>

namespace clcp {

/// SIGKILLs the process when CLCP_FAULT_KILL selects this point (see above); otherwise returns at once.
void fault_point(std::string_view name);

/// True exactly once, at the point CLCP_FAULT_NAN selects (see above); false in every real run.
bool fault_nan(std::string_view name);

}  // namespace clcp
