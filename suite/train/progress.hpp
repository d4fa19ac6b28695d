// One-line progress display for long loops (finetune, eval), written to stderr.
//   finetune 120/500 | loss 1.234 | lr 9.1e-03 | 6.1 img/s | ETA 1m02s
//   eval cityscapes/val 12/24 | 1.3 img/s | ETA 10s
// On a terminal the line is redrawn in place with '\r'; otherwise (logs, CI) a plain line is printed each time the
// count crosses another `plain_every_percent` percent, and at the end, so logs stay short.
#pragma once
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace clcp {

/// "ETA" text for a duration in seconds: "10s", "1m02s", "2h05m"; "?" for negative/non-finite (not yet known).
std::string format_eta(double seconds);

class ProgressLine {
 public:
  /// label: the prefix ("finetune", "eval cityscapes/val"); total: the final count (>0).
  /// out: the stream written to; tty: force in-place ('\r') mode on/off, default isatty(fileno(out)).
  ProgressLine(std::string label, int64_t total, std::FILE* out = stderr, std::optional<bool> tty = std::nullopt,
               int plain_every_percent = 10);
  ~ProgressLine();

  /// Named fields in display order, already formatted, e.g. {{"loss","1.234"},{"lr","9.1e-03"}}.
  using Fields = std::vector<std::pair<std::string, std::string>>;

  /// Reports `done` of `total`. images_per_s and eta_s < 0 mean "not known yet" (shown as "?").
  void update(int64_t done, const Fields& fields, double images_per_s, double eta_s);
  /// Ends the line (a newline in tty mode). Called by the destructor if not called before.
  void finish();

  /// The text of one line, without '\r' or newline (what update() shows).
  std::string render(int64_t done, const Fields& fields, double images_per_s, double eta_s) const;

 private:
  std::string label_;
  int64_t total_;
  std::FILE* out_;
  bool tty_;
  int every_percent_;
  int64_t next_plain_ = 0;  // next count at which a plain line is due
  size_t last_width_ = 0;
  bool open_ = false;  // a tty line has been drawn and not yet ended
  bool finished_ = false;
};

}  // namespace clcp
