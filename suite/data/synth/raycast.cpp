#include "suite/data/synth/raycast.hpp"

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace clcp::synth {

RayCaster::RayCaster(const Scene& scene, const cv::Vec3f& origin, float ppr, float hh, float hv)
    : scene_(scene), origin_(origin) {
  constexpr float kDeg = 3.14159265f / 180.f;
  cam_.f = ppr;
  cam_.fy = ppr;
  cam_.width = 2 * static_cast<int>(std::ceil(ppr * std::tan(hh * kDeg)));
  cam_.height = 2 * static_cast<int>(std::ceil(ppr * std::tan(hv * kDeg)));
  cam_.cx = cam_.width * 0.5f;
  cam_.cy = cam_.height * 0.5f;
  cam_.x = origin[0];
  cam_.h = origin[1];
  cam_.z = origin[2];
  cam_.bonnet = false;
  parts_ = detail::object_parts(scene, cam_);
  ids_ = cv::Mat1i(cam_.height, cam_.width, -1);
  for (size_t i = 0; i < parts_.size(); ++i) {
    const detail::ObjectPart& p = parts_[i];
    if (p.depth < 0.5f) continue;  // as the renderer: parts behind or at the origin are not drawn
    const std::vector<std::vector<cv::Point>> poly{p.pts};
    if (p.thickness > 0)
      cv::polylines(ids_, poly, true, cv::Scalar(static_cast<int>(i)), p.thickness, cv::LINE_8, detail::kPartShift);
    else
      cv::fillPoly(ids_, poly, cv::Scalar(static_cast<int>(i)), cv::LINE_8, detail::kPartShift);
  }
}

RayHit RayCaster::cast(const cv::Vec3f& dir) const {
  RayHit r;
  if (dir[2] < 0.05f) return r;
  const float dx = dir[0] / dir[2], dy = dir[1] / dir[2];
  // fillPoly's pixel i covers [i − 0.5, i + 0.5) of the projected coordinate.
  const long u = std::lround(cam_.cx + cam_.f * dx), v = std::lround(cam_.cy - cam_.fy * dy);
  if (u < 0 || v < 0 || u >= cam_.width || v >= cam_.height) return r;
  const detail::StaticHit st = detail::cast_static(scene_, cam_, dx, dy);
  const float static_range = st.hit ? st.depth / dir[2] : 0.f;
  const int id = ids_(static_cast<int>(v), static_cast<int>(u));
  if (id >= 0) {
    const detail::ObjectPart& p = parts_[static_cast<size_t>(id)];
    float t = -1.f;
    const float d = dir[p.axis];
    if (std::abs(d) > 1e-4f) t = (p.plane - origin_[p.axis]) / d;
    // A ray almost in the part's plane, or a plane behind the origin: fall back to the part's depth.
    if (!(t > 0.f) || t > 4.f * p.depth / dir[2] + 2.f) t = p.depth / dir[2];
    r.hit = true;
    r.range = t;
    r.label_id = p.label_id;
    r.material = p.material;
    r.flags = p.flags;
    r.object = true;
    r.normal = {0, 0, 0};
    r.normal[p.axis] = d > 0 ? -1.f : 1.f;
    return r;
  }
  if (!st.hit) return r;
  r.hit = true;
  r.range = static_range;
  r.label_id = st.label_id;
  r.material = st.material;
  r.flags = st.flags;
  r.normal = {0, 0, 0};
  r.normal[st.axis] = dir[st.axis] > 0 ? -1.f : 1.f;
  return r;
}

}  // namespace clcp::synth
