// What the two-view image methods (SimCLR, the Siamese family) share: their protocol's "views" block and the camera
// frames they read (the A2D2 front-centre frames, undistorted, or a folder of images as they are).
#pragma once
#include <string>

#include "suite/data/two_view.hpp"
#include "suite/data/view_loader.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/protocol/json_reader.hpp"

namespace clcp {

/// method_config.views {crop_scale, crop_ratio, flip_p, jitter_p, brightness, contrast, saturation, hue, grayscale_p,
/// blur_p, blur_sigma, blur_kernel} of the object `config` (all required; unknown keys are errors), at out_size.
/// Range errors are UserError (checked by drawing one view).
ViewOptions read_view_options(StrictObject& config, int out_size);

/// The "train" or "val" frames of the build's data.
FrameSplit image_frames(const MethodBuild& in, const std::string& split);

}  // namespace clcp
