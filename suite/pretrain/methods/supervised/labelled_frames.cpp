#include "suite/pretrain/methods/supervised/labelled_frames.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <numeric>
#include <stdexcept>
#include <system_error>

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"
#include "suite/data/two_view.hpp"
#include "suite/data/view_loader.hpp"

namespace clcp {

LabelledSplit labelled_split(const PairSplit& split) {
  LabelledSplit s;
  s.name = split.name;
  s.root = split.root;
  s.camera = split.camera;
  std::error_code ec;
  for (const auto& r : split.records) {
    s.frames.push_back(r.camera);
    s.labels.push_back(a2d2_label_path(r.camera));
    if (!std::filesystem::is_regular_file(s.labels.back(), ec))
      fail("{}: no label PNG for camera frame {}; the supervised method needs A2D2's label/cam_front_center folder "
           "(download camera_lidar_semantic with its labels, or re-render the embedded data with `clcp-bench data "
           "synth`)",
           s.labels.back().string(), r.camera.filename().string());
  }
  return s;
}

LabelledFrameLoader::LabelledFrameLoader(LabelledSplit split, std::shared_ptr<const A2D2LabelDecoder> decoder,
                                         LabelledViewOptions views, std::array<float, 3> mean_rgb,
                                         std::array<float, 3> std_rgb, PairMode mode, uint64_t seed, int64_t batch_size,
                                         PairRows rows)
    : split_(std::move(split)),
      decoder_(std::move(decoder)),
      undistorter_(split_.camera),
      views_(views),
      mean_(mean_rgb),
      std_(std_rgb),
      mode_(mode),
      seed_(seed),
      batch_size_(batch_size),
      first_row_(rows.first),
      rows_(rows.count > 0 ? rows.count : batch_size) {
  if (!decoder_ || batch_size < 1 || first_row_ < 0 || first_row_ + rows_ > batch_size)
    throw std::invalid_argument("LabelledFrameLoader: decoder, batch size or rows out of range");
  const auto n = static_cast<int64_t>(split_.frames.size());
  if (n < batch_size)
    fail("{}: the {} split holds {} frames, fewer than one batch of {} (batches drop the remainder); use a smaller "
         "batch size or more data", split_.root.string(), split_.name, n, batch_size);
  batches_per_epoch_ = n / batch_size;
}

LabelledBatch LabelledFrameLoader::batch(uint64_t epoch, int64_t i) const {
  if (i < 0 || i >= batches_per_epoch_) throw std::invalid_argument("LabelledFrameLoader: batch index out of range");
  const size_t n = split_.frames.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  if (mode_ == PairMode::kTrain) {
    Stream s(seed_, "supervised/order", epoch);
    for (size_t j = n - 1; j >= 1; --j) std::swap(order[j], order[static_cast<size_t>(s.randint(0, j + 1))]);
  }
  const int S = views_.out_size;
  ViewOptions crop;  // two_view's RandomResizedCrop + flip, nothing photometric
  crop.out_size = S;
  crop.crop_scale = views_.crop_scale;
  crop.crop_ratio = views_.crop_ratio;
  crop.flip_p = views_.flip_p;
  crop.jitter_p = crop.grayscale_p = crop.blur_p = 0;
  LabelledBatch b;
  b.images = torch::empty({rows_, 3, S, S}, torch::kFloat32);
  b.labels = torch::empty({rows_, S, S}, torch::kInt64);
  b.indices.resize(static_cast<size_t>(rows_));
  std::vector<std::string> errors(static_cast<size_t>(rows_));
  at::parallel_for(0, rows_, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const auto q = static_cast<uint64_t>(i * batch_size_ + first_row_ + r);
      const size_t record = order[q];
      try {
        const auto& file = split_.frames[record];
        const cv::Mat frame = undistorter_.apply(read_rgb_image(file), file.string());
        const auto& label_file = split_.labels[record];
        const cv::Mat ids = undistorter_.apply_labels(decoder_->decode(label_file), label_file.string());
        cv::Mat image, label;
        if (mode_ == PairMode::kTrain) {
          Stream s(seed_, "supervised/crop", epoch, q);
          const ViewParams p = draw_view(frame.rows, frame.cols, crop, s);
          image = apply_view(frame, p, crop);
          cv::resize(ids(cv::Rect(p.left, p.top, p.width, p.height)), label, cv::Size(S, S), 0, 0, cv::INTER_NEAREST);
          if (p.flip) cv::flip(label, label, 1);
        } else {
          cv::resize(frame, image, cv::Size(S, S), 0, 0, cv::INTER_AREA);
          cv::resize(ids, label, cv::Size(S, S), 0, 0, cv::INTER_NEAREST);
        }
        b.images[r].copy_(normalise_rgb(image, mean_, std_));
        cv::Mat1b l = label;
        b.labels[r].copy_(torch::from_blob(l.data, {S, S}, torch::kUInt8).to(torch::kInt64));
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
