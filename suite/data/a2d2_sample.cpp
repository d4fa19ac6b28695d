#include "suite/data/a2d2_sample.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <system_error>

#include "suite/core/error.hpp"
#include "suite/data/image_augment.hpp"

namespace clcp {

ReflectanceScale reflectance_scale_from_name(std::string_view name) {
  if (name == "raw") return ReflectanceScale::kRaw;
  if (name == "unit") return ReflectanceScale::kUnit;
  fail("reflectance scale '{}': expected raw (A2D2's 0–255, as the thesis) or unit (÷255); fix the setting", name);
}

std::string_view reflectance_scale_name(ReflectanceScale s) { return s == ReflectanceScale::kRaw ? "raw" : "unit"; }

int crop_side(const PairPipelineOptions& o, const A2D2Camera& cam) {
  const int crop = o.crop > 0 ? o.crop
                              : static_cast<int>(std::lround(static_cast<double>(kThesisCrop) * cam.width / kThesisCameraWidth));
  if (crop < 1 || crop >= std::min(cam.width, cam.height))
    fail("crop {}: expected 1 ≤ crop < min(width, height) = {} of the {}x{} camera ({}); choose a smaller crop", crop,
         std::min(cam.width, cam.height), cam.width, cam.height, cam.source.string());
  if (o.out_size < 1) fail("out_size {}: expected ≥ 1 pixel; choose another size", o.out_size);
  return crop;
}

Undistorter::Undistorter(const A2D2Camera& camera) : camera_(camera) {
  const cv::Mat K(camera.cam_matrix_original), Knew(camera.cam_matrix);
  const cv::Size size(camera.width, camera.height);
  if (camera.lens == "Fisheye") {
    // cv::fisheye::undistortImage: unit R, the first four coefficients, CV_16SC2 maps, remap INTER_LINEAR.
    const cv::Mat D = (cv::Mat_<double>(1, 4) << camera.distortion[0], camera.distortion[1], camera.distortion[2],
                       camera.distortion[3]);
    cv::fisheye::initUndistortRectifyMap(K, D, cv::Matx33d::eye(), Knew, size, CV_16SC2, map1_, map2_);
    return;
  }
  // cv::undistort computes its maps in stripes of max(1, 4096 / width) rows, each with the new principal point moved
  // up by the stripe's first row. The same stripes are computed here once, so that the maps — and so the pixels — are
  // exactly those of cv::undistort (a map computed in one piece differs in the last bits for some pixels).
  const cv::Mat D(1, 5, CV_64F, const_cast<double*>(camera.distortion.data()));
  map1_.create(size, CV_16SC2);
  map2_.create(size, CV_16UC1);
  const int stripe = std::min(std::max(1, (1 << 12) / std::max(size.width, 1)), size.height);
  cv::Mat Ar = Knew.clone();
  const double v0 = Ar.at<double>(1, 2);
  for (int y = 0; y < size.height; y += stripe) {
    const int rows = std::min(stripe, size.height - y);
    Ar.at<double>(1, 2) = v0 - y;
    cv::Mat m1, m2;
    cv::initUndistortRectifyMap(K, D, cv::Matx33d::eye(), Ar, cv::Size(size.width, rows), CV_16SC2, m1, m2);
    m1.copyTo(map1_.rowRange(y, y + rows));
    m2.copyTo(map2_.rowRange(y, y + rows));
  }
}

cv::Mat Undistorter::apply(const cv::Mat& image, std::string_view label) const {
  if (image.cols != camera_.width || image.rows != camera_.height)
    fail("{}: image is {}x{} but {} says the front_center camera is {}x{}; use the calibration of this data set", label,
         image.cols, image.rows, camera_.source.string(), camera_.width, camera_.height);
  cv::Mat out;
  cv::remap(image, out, map1_, map2_, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  return out;
}

cv::Mat Undistorter::apply_labels(const cv::Mat& ids, std::string_view label) const {
  if (ids.cols != camera_.width || ids.rows != camera_.height)
    fail("{}: label is {}x{} but {} says the front_center camera is {}x{}; use the labels of this data set", label,
         ids.cols, ids.rows, camera_.source.string(), camera_.width, camera_.height);
  // With the fixed-point maps remap's INTER_NEAREST would take the integer part (floor) of each source coordinate;
  // the float maps give the nearest pixel.
  cv::Mat fx, fy, out;
  cv::convertMaps(map1_, map2_, fx, fy, CV_32FC1);
  cv::remap(ids, out, fx, fy, cv::INTER_NEAREST, cv::BORDER_CONSTANT, cv::Scalar(255));
  return out;
}

LidarCloud lidar_cloud(const NpzArchive& a, std::string_view label) {
  auto need = [&](const char* key) -> const NpyArray& {
    const NpyArray* m = a.find(key);
    if (!m) fail("{}: missing member {}.npy (A2D2 lidar files hold points, reflectance, row, col); re-download the file", label, key);
    return *m;
  };
  const NpyArray &p = need("points"), &r = need("reflectance"), &row = need("row"), &col = need("col");
  if (p.shape.size() != 2 || p.shape[1] != 3)
    fail("{}: member points has shape ({}) but must be N×3 (x, y, z); re-download the file", label, fmt::join(p.shape, ", "));
  LidarCloud c;
  c.n = p.shape[0];
  for (const auto& [key, arr] : {std::pair{"reflectance", &r}, std::pair{"row", &row}, std::pair{"col", &col}})
    if (arr->shape.size() != 1 || arr->shape[0] != c.n)
      fail("{}: mismatched member lengths: points has {} rows but {} has shape ({}); re-download the file", label, c.n,
           key, fmt::join(arr->shape, ", "));
  c.points = p.to_doubles();
  c.reflectance = r.to_doubles();
  c.row = row.to_doubles();
  c.col = col.to_doubles();
  return c;
}

LidarCloud read_lidar_cloud(const std::filesystem::path& npz) { return lidar_cloud(read_npz(npz), npz.string()); }

CropBox draw_crop(int width, int height, int size, Stream& s) {
  CropBox b;
  b.size = size;
  b.left = static_cast<int>(s.randint(0, width - size));
  b.top = static_cast<int>(s.randint(0, height - size));
  return b;
}

std::vector<int64_t> points_in_crop(const LidarCloud& c, const CropBox& b) {
  std::vector<int64_t> keep;
  const double top = b.top, bottom = b.top + b.size, left = b.left, right = b.left + b.size;
  for (int64_t i = 0; i < c.n; ++i) {
    const double r = c.row[static_cast<size_t>(i)], q = c.col[static_cast<size_t>(i)];
    if (r >= top && r < bottom && q >= left && q < right) keep.push_back(i);
  }
  return keep;
}

torch::Tensor crop_points(const LidarCloud& c, const std::vector<int64_t>& keep, ReflectanceScale scale) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(keep.size()), 4}, torch::kFloat32);
  float* d = t.data_ptr<float>();
  for (size_t k = 0; k < keep.size(); ++k) {
    const size_t i = static_cast<size_t>(keep[k]);
    d[4 * k + 0] = static_cast<float>(c.points[3 * i + 0]);
    d[4 * k + 1] = static_cast<float>(c.points[3 * i + 1]);
    d[4 * k + 2] = static_cast<float>(c.points[3 * i + 2]);
    d[4 * k + 3] = static_cast<float>(scale == ReflectanceScale::kUnit ? c.reflectance[i] / 255.0 : c.reflectance[i]);
  }
  return t;
}

cv::Mat crop_and_resize(const cv::Mat& img, const CropBox& b, int out) {
  cv::Mat resized;
  cv::resize(img(cv::Rect(b.left, b.top, b.size, b.size)), resized, cv::Size(out, out), 0, 0, cv::INTER_LINEAR);
  return resized;
}

torch::Tensor normalise_rgb(const cv::Mat& rgb, const std::array<float, 3>& mean, const std::array<float, 3>& sd) {
  CV_Assert(rgb.type() == CV_8UC3);
  torch::Tensor t = torch::empty({3, rgb.rows, rgb.cols}, torch::kFloat32);
  float* dst = t.data_ptr<float>();
  const int64_t plane = static_cast<int64_t>(rgb.rows) * rgb.cols;
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int c = 0; c < 3; ++c) {
      float* d = dst + c * plane + static_cast<int64_t>(y) * rgb.cols;
      for (int x = 0; x < rgb.cols; ++x) d[x] = (static_cast<float>(p[3 * x + c]) - mean[c]) / sd[c];
    }
  }
  return t;
}

namespace {

cv::Mat read_rgb(const std::filesystem::path& png) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(png, ec)) fail("{}: file not found; re-download or regenerate it", png.string());
  cv::Mat bgr;
  try {
    bgr = cv::imread(png.string(), cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    bgr.release();
  }
  if (bgr.empty()) fail("{}: PNG does not decode; re-download or regenerate it", png.string());
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

}  // namespace

PairSample load_pair_sample(const PairSplit& split, const Undistorter& und, const PairPipelineOptions& o, size_t index,
                            PairMode mode, uint64_t seed, uint64_t epoch, uint64_t position) {
  const size_t n = split.records.size();
  if (n == 0) fail("{}: A2D2 {} split has no records; check --data-root", split.root.string(), split.name);
  const A2D2Camera& cam = und.camera();
  const int crop = crop_side(o, cam);
  Stream crops = mode == PairMode::kTrain ? Stream(seed, "a2d2/crop", epoch, position)
                                          : Stream(kValCropSeed, "a2d2/val-crop", 0, position);
  size_t idx = index % n;
  for (int attempt = 1; attempt <= o.max_tries; ++attempt, idx = (idx + 1) % n) {
    const A2D2Pair& rec = split.records[idx];
    // shuffled pairing (PairSplit::cloud_of): another frame's cloud, cropped with this image's box
    const A2D2Pair& cloud_rec = split.cloud_of.empty() ? rec : split.records[split.cloud_of[idx]];
    const LidarCloud cloud = read_lidar_cloud(cloud_rec.lidar);
    const CropBox box = draw_crop(cam.width, cam.height, crop, crops);
    const std::vector<int64_t> keep = points_in_crop(cloud, box);
    if (keep.empty()) continue;
    // The image is decoded only for the record whose crop holds points: the thesis decoded every try, with the same
    // result (the image does not influence the draws).
    const cv::Mat undistorted = und.apply(read_rgb(rec.camera), rec.camera.string());
    cv::Mat small = crop_and_resize(undistorted, box, o.out_size);
    if (o.augment && mode == PairMode::kTrain) {
      Stream aug(seed, "a2d2/augment", epoch, position);
      augment_image(small, aug);
    }
    PairSample s;
    s.image = normalise_rgb(small, o.mean_rgb, o.std_rgb);
    s.points = crop_points(cloud, keep, o.reflectance);
    s.record = idx;
    s.crop = box;
    s.tries = attempt;
    return s;
  }
  fail("{}: no lidar point inside the {}-px crop in {} consecutive records from here (the thesis's retry limit); the "
       "point clouds are empty or their row/col do not match the {}x{} camera — check the data or use a larger crop",
       split.records[index % n].lidar.string(), crop, o.max_tries, cam.width, cam.height);
}

}  // namespace clcp
