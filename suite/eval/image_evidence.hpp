// The per-class pixel counts of one image from its prediction and label tensors, as mmseg 1.2.2
// intersect_and_union (mmseg_reference.md §7). Kept apart from suite/eval/evidence.hpp so that the stages that only
// read and aggregate evidence (results, stats, report, gate) compile without LibTorch.
#pragma once
#include <torch/torch.h>

#include <string>

#include "suite/eval/evidence.hpp"

namespace clcp {

/// pred, label: [H,W] integer tensors (any integer dtype, any device) of the same shape; pred in trainIds.
/// Pixels whose label is 255 (kIgnoreIndex) count nowhere; any value outside 0..18 is dropped from the histogram it
/// would enter (as torch.histc in mmseg): a pred of 200 is in no pred_area, a label of 30 in no label_area.
/// Throws UserError naming `id` if the shapes differ.
ImageEvidence image_evidence(const torch::Tensor& pred, const torch::Tensor& label, const std::string& id,
                             const std::string& dataset, const std::string& condition);

}  // namespace clcp
