// Precompiled header: the heavy third-party headers nearly every translation unit includes.
#pragma once
#include <torch/torch.h>
#include <opencv2/core.hpp>
#include <nlohmann/json.hpp>
#include <fmt/format.h>
#include <filesystem>
#include <string>
#include <vector>
