#include "suite/train/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace clcp {

std::string format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

ProgressLine::ProgressLine(std::string label, int64_t total, std::FILE* out, std::optional<bool> tty,
                           int plain_every_percent)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      out_(out),
      tty_(tty.value_or(out != nullptr && ::isatty(::fileno(out)) == 1)),
      every_percent_(std::clamp(plain_every_percent, 1, 100)) {}

ProgressLine::~ProgressLine() { finish(); }

std::string ProgressLine::render(int64_t done, const Fields& fields, double images_per_s, double eta_s) const {
  std::string s = fmt::format("{} {}/{}", label_, done, total_);
  for (const auto& [name, value] : fields) s += fmt::format(" | {} {}", name, value);
  s += (images_per_s >= 0 && std::isfinite(images_per_s)) ? fmt::format(" | {:.1f} img/s", images_per_s)
                                                          : std::string(" | ? img/s");
  s += " | ETA " + format_eta(eta_s);
  return s;
}

void ProgressLine::update(int64_t done, const Fields& fields, double images_per_s, double eta_s) {
  if (out_ == nullptr || finished_) return;
  const std::string line = render(done, fields, images_per_s, eta_s);
  if (tty_) {
    // Pad with spaces so a shorter line fully covers the previous one.
    const size_t pad = last_width_ > line.size() ? last_width_ - line.size() : 0;
    fmt::print(out_, "\r{}{}", line, std::string(pad, ' '));
    last_width_ = line.size();
    open_ = true;
  } else {
    if (done < next_plain_ && done < total_) return;
    fmt::print(out_, "{}\n", line);
    // Next multiple of every_percent_ % strictly after `done`.
    const int64_t step = std::max<int64_t>(1, total_ * every_percent_ / 100);
    next_plain_ = (done / step + 1) * step;
  }
  std::fflush(out_);
}

void ProgressLine::finish() {
  if (finished_) return;
  finished_ = true;
  if (out_ != nullptr && tty_ && open_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

}  // namespace clcp
