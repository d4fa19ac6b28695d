// `clcp-bench data check --decode`: decode every image and label of a split with the same checks as training and
// evaluation (load_sample: PNG decodes, label 8-bit single channel, label size = image size, values are trainIds or
// labelIds), and collect every problem instead of stopping at the first.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "suite/data/dataset.hpp"

namespace clcp {

/// Called on the calling thread as records finish: (records done, records total).
using DecodeProgress = std::function<void(size_t done, size_t total)>;

/// The one-line problem of every record of `split` that fails load_sample(), in record order (empty: all decode).
/// `threads` ≥ 1 workers decode in parallel; the result does not depend on the thread count.
std::vector<std::string> decode_check(const Split& split, int threads, const DecodeProgress& progress = {});

}  // namespace clcp
