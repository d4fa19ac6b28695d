// Precompiled header of the stages that never touch LibTorch (core, protocol, results, stats, report, plan, exec,
// gate): the third-party headers they all include. Parsing torch/torch.h costs more than most of these TUs.
#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>
