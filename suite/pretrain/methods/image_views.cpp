#include "suite/pretrain/methods/image_views.hpp"

#include "suite/core/rng.hpp"

namespace clcp {

ViewOptions read_view_options(StrictObject& config, int out_size) {
  auto v = config.object("views");
  ViewOptions o;
  const auto scale = v.numbers("crop_scale", 2), ratio = v.numbers("crop_ratio", 2), sigma = v.numbers("blur_sigma", 2);
  o.crop_scale = {scale[0], scale[1]};
  o.crop_ratio = {ratio[0], ratio[1]};
  o.flip_p = v.number("flip_p");
  o.jitter_p = v.number("jitter_p");
  o.brightness = v.number("brightness");
  o.contrast = v.number("contrast");
  o.saturation = v.number("saturation");
  o.hue = v.number("hue");
  o.grayscale_p = v.number("grayscale_p");
  o.blur_p = v.number("blur_p");
  o.blur_sigma = {sigma[0], sigma[1]};
  o.blur_kernel = static_cast<int>(v.integer("blur_kernel"));
  v.finish();
  o.out_size = out_size;
  Stream probe(0, "check");
  draw_view(64, 64, o, probe);  // range checks of the view options (UserError)
  return o;
}

FrameSplit image_frames(const MethodBuild& in, const std::string& split) {
  if (in.data->a2d2) return frames_of(a2d2_split(*in.data->a2d2, split));
  FrameSplit f;
  f.name = split;
  f.root = in.data->images->root;
  f.frames = in.data->images->split(split);
  return f;
}

}  // namespace clcp
