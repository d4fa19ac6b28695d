#include "suite/data/view_loader.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <numeric>
#include <stdexcept>

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"

namespace clcp {

cv::Mat read_rgb_image(const std::filesystem::path& file) {
  cv::Mat bgr;
  try {
    bgr = cv::imread(file.string(), cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    bgr.release();
  }
  if (bgr.empty()) fail("{}: the image does not decode; re-download or regenerate it", file.string());
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

FrameSplit frames_of(const PairSplit& split) {
  FrameSplit f;
  f.name = split.name;
  f.root = split.root;
  for (const auto& r : split.records) f.frames.push_back(r.camera);
  f.camera = split.camera;
  return f;
}

ViewLoader::ViewLoader(FrameSplit split, ViewOptions views, std::array<float, 3> mean_rgb,
                       std::array<float, 3> std_rgb, PairMode mode, uint64_t seed, int64_t batch_size, PairRows rows,
                       int views_per_frame)
    : split_(std::move(split)),
      undistorter_(split_.camera ? std::optional<Undistorter>(std::in_place, *split_.camera) : std::nullopt),
      views_(views),
      mean_(mean_rgb),
      std_(std_rgb),
      mode_(mode),
      seed_(seed),
      batch_size_(batch_size),
      first_row_(rows.first),
      rows_(rows.count > 0 ? rows.count : batch_size),
      views_per_frame_(views_per_frame) {
  if (views_per_frame < 2) throw std::invalid_argument("ViewLoader: views_per_frame must be >= 2");
  if (batch_size < 1 || first_row_ < 0 || first_row_ + rows_ > batch_size)
    throw std::invalid_argument("ViewLoader: batch size and rows out of range");
  const auto n = static_cast<int64_t>(split_.frames.size());
  if (n < batch_size)
    fail("{}: the {} split holds {} frames, fewer than one batch of {} (batches drop the remainder); use a smaller "
         "batch size or more data", split_.root.string(), split_.name, n, batch_size);
  batches_per_epoch_ = n / batch_size;
}

ViewBatch ViewLoader::batch(uint64_t epoch, int64_t i) const {
  if (i < 0 || i >= batches_per_epoch_) throw std::invalid_argument("ViewLoader: batch index out of range");
  const size_t n = split_.frames.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  if (mode_ == PairMode::kTrain) {
    Stream s(seed_, "frames/order", epoch);
    for (size_t j = n - 1; j >= 1; --j) std::swap(order[j], order[static_cast<size_t>(s.randint(0, j + 1))]);
  }
  const int S = views_.out_size;
  ViewBatch b;
  b.view_a = torch::empty({rows_, 3, S, S}, torch::kFloat32);
  b.view_b = torch::empty({rows_, 3, S, S}, torch::kFloat32);
  for (int v = 2; v < views_per_frame_; ++v) b.extra_views.push_back(torch::empty({rows_, 3, S, S}, torch::kFloat32));
  b.indices.resize(static_cast<size_t>(rows_));
  std::vector<std::string> errors(static_cast<size_t>(rows_));
  at::parallel_for(0, rows_, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const auto q = static_cast<uint64_t>(i * batch_size_ + first_row_ + r);
      const size_t record = order[q];
      try {
        const auto& file = split_.frames[record];
        const cv::Mat rgb = read_rgb_image(file);
        const cv::Mat frame = undistorter_ ? undistorter_->apply(rgb, file.string()) : rgb;
        Stream s = mode_ == PairMode::kTrain ? Stream(seed_, "frames/views", epoch, q)
                                             : Stream(kValViewSeed, "frames/val-views", 0, q);
        const ViewParams pa = draw_view(frame.rows, frame.cols, views_, s);
        const ViewParams pb = draw_view(frame.rows, frame.cols, views_, s);
        b.view_a[r].copy_(normalise_rgb(apply_view(frame, pa, views_), mean_, std_));
        b.view_b[r].copy_(normalise_rgb(apply_view(frame, pb, views_), mean_, std_));
        for (auto& extra : b.extra_views)  // drawn after a and b: their bytes do not depend on M
          extra[r].copy_(normalise_rgb(apply_view(frame, draw_view(frame.rows, frame.cols, views_, s), views_), mean_,
                                       std_));
        b.indices[static_cast<size_t>(r)] = record;
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    }
  });
  for (const auto& e : errors)
    if (!e.empty()) fail("{}", e);
  return b;
}

}  // namespace clcp
