// Precompiled header of the stages that use LibTorch (data, models, eval, dist, pretrain, train, the CLI, the tests
// and benchmarks of those): LibTorch, OpenCV's core and the light set.
#pragma once
#include <torch/torch.h>

#include <opencv2/core.hpp>

#include "pch_light.hpp"
