// Nothing lost, nothing stale, nothing silent (issue 11): each numbered defect of the issue, as a user meets it.
#include <catch2/catch.hpp>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "cli_harness.hpp"
#include "suite/core/fsio.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/loader.hpp"
#include "support/small_tmpfs.hpp"

namespace fs = std::filesystem;
using clcp::test::CliProcess;
using clcp::test::run_cli;

namespace {

int line_count(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

int count_of(const std::string& s, const std::string& word) {
  int n = 0;
  for (size_t at = s.find(word); at != std::string::npos; at = s.find(word, at + 1)) ++n;
  return n;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("clcp_rel_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

std::string ci(const fs::path& data, const fs::path& out, const std::string& extra = "--threads 2") {
  return "run --protocol dg_acdc --scale ci --data-root " + data.string() + " --out " + out.string() + " " + extra;
}

// A copy of the shared small data set that a test may change.
fs::path data_copy(const std::string& name) {
  const fs::path d = fresh_dir("data_" + name);
  fs::copy(clcp::test::small_synth_root(), d, fs::copy_options::recursive);
  return d;
}

std::vector<fs::path> files_under(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().string().ends_with(suffix)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

fs::path reliability_cell(const fs::path& out) {
  for (const auto& e : fs::directory_iterator(out / "dg_acdc"))
    if (fs::exists(e.path() / "spec.json")) return e.path();
  return {};
}

std::string state_of(const fs::path& cell) { return clcp::read_json(cell / "status.json").value("state", ""); }

bool file_has(const fs::path& p, const std::string& text) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return false;
  try {
    return clcp::read_file(p).find(text) != std::string::npos;
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<std::string> plan_cells(const fs::path& out) {
  std::error_code ec;
  if (!fs::is_directory(out / "dg_acdc", ec)) return {};
  for (const auto& p : files_under(out / "dg_acdc", ".json"))
    if (p.filename().string().rfind("plan-", 0) == 0) return clcp::read_json(p)["cells"].get<std::vector<std::string>>();
  return {};
}

}  // namespace

// Defect 1: two identical runs into one --out both trained the same cell (every iteration twice in train_log.jsonl,
// latest.json gone) and the report accepted the bundle.
TEST_CASE("a second run of a cell that is running stops with the owner's pid and start time, and --wait queues") {
  const fs::path out = fresh_dir("twice");
  const std::string args = ci(clcp::test::small_synth_root(), out);
  CliProcess first(args);
  fs::path cell;
  REQUIRE(first.wait_until([&] {
    cell = fs::exists(out / "dg_acdc") ? reliability_cell(out) : fs::path();
    return !cell.empty() && file_has(cell / "status.json", "\"running\"");
  }));
  const auto second = run_cli(args);
  INFO(second.output);
  CHECK(second.exit_code == 2);
  CHECK(count_of(second.output, "error") == 1);  // one line
  CHECK_THAT(second.output, Catch::Contains("clcp-bench: error: cell " + cell.filename().string() +
                                            ": already being run by pid " + std::to_string(first.pid()) + " on "));
  CHECK_THAT(second.output, Catch::Contains("let it finish, or pass --wait to start when it is done"));
  // With --wait a third run queues behind the first and then finds the cell done.
  CliProcess third(args + " --wait");
  const auto r1 = first.finish();
  INFO(r1.output);
  REQUIRE(r1.exit_code == 0);
  const auto r3 = third.finish();
  INFO(r3.output);
  CHECK(r3.exit_code == 0);
  CHECK_THAT(r3.output, Catch::Contains("waiting for it to finish (--wait)"));
  CHECK_THAT(r3.output, Catch::Contains("already done"));
  // One owner trained it: every logged iteration once, the checkpoint pointer intact, the bundle verifies.
  std::vector<int64_t> iters;
  std::istringstream log(clcp::read_file(cell / "train_log.jsonl"));
  for (std::string line; std::getline(log, line);) iters.push_back(nlohmann::json::parse(line)["iter"]);
  CHECK(iters == std::vector<int64_t>{2, 4, 6, 8, 10, 12});
  CHECK(fs::exists(cell / "checkpoints/latest.json"));
  CHECK(run_cli("report " + cell.string() + " --format md --out " + (out / "report").string()).exit_code == 0);
}

// Defect 7: --threads 0 and --threads -3 meant "all cores" silently, and the thread count was not part of a cell's
// identity, so a resume or a skip could mix thread counts.
TEST_CASE("a thread count below 1 or not a number is refused, auto is allowed") {
  for (const std::string bad : {"0", "-3", "two", "1.5"}) {
    const auto r = run_cli("run --protocol dg_acdc --scale ci --threads " + bad + " --out /tmp/clcp_rel_threads");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.output) == 1);
    CHECK(r.output == "clcp-bench: error: --threads " + bad +
                          ": expected a count from 1 to 4096 or 'auto' (the CPUs this process may use); results are "
                          "bit-identical only for the same count\n");
  }
}

TEST_CASE("an interrupted or finished cell is not resumed or reused with another thread count") {
  const fs::path out = fresh_dir("threads");
  const fs::path data = clcp::test::small_synth_root();
  CliProcess first(ci(data, out, "--threads 2"));
  REQUIRE(first.wait_until([&] { return fs::exists(out / "dg_acdc") && !reliability_cell(out).empty() &&
                                        fs::exists(reliability_cell(out) / "checkpoints/latest.json"); }));
  first.signal(SIGINT);
  CHECK(first.finish().exit_code == 130);
  const fs::path cell = reliability_cell(out);
  const auto resume = run_cli(ci(data, out, "--threads 1"));
  INFO(resume.output);
  CHECK(resume.exit_code == 2);
  CHECK_THAT(resume.output, Catch::Contains("written with --threads 2, this run uses 1; results are bit-identical only "
                                            "for the same count: resume with --threads 2, or add --force"));
  REQUIRE(run_cli(ci(data, out, "--threads 2")).exit_code == 0);
  const auto reuse = run_cli(ci(data, out, "--threads 1"));
  INFO(reuse.output);
  CHECK(reuse.exit_code == 2);
  CHECK_THAT(reuse.output, Catch::Contains("cell " + cell.filename().string() + ": finished with --threads 2, this run "
                                           "uses 1; results are bit-identical only for the same count: run with "
                                           "--threads 2 to reuse it, or add --force to recompute it with 1"));
}

// Defect 6: --init given a PNG said "truncated safetensors file … re-download or re-export it".
TEST_CASE("a weights path that is a PNG, JSON, text or empty file says what it is, before any data is read") {
  const fs::path dir = fresh_dir("init");
  fs::create_directories(dir);
  const fs::path png = dir / "vit.safetensors", json = dir / "vit.pth", text = dir / "notes.safetensors",
                 empty = dir / "empty.safetensors", lfs = dir / "lfs.safetensors";
  REQUIRE(cv::imwrite((dir / "x.png").string(), cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(9))));
  fs::rename(dir / "x.png", png);
  clcp::write_atomic(json, R"({"error": "not found"})");
  clcp::write_atomic(text, "hello weights\nsecond line\n");
  clcp::write_atomic(empty, "");
  clcp::write_atomic(lfs, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1234\n");
  const std::vector<std::pair<fs::path, std::string>> cases{
      {png, "a PNG image"}, {json, "JSON text"}, {text, "text (first line: \"hello weights\")"},
      {empty, "empty (0 bytes)"}, {lfs, "a Git LFS pointer, not the file itself (run `git lfs pull`)"}};
  for (const auto& [file, what] : cases) {
    const std::string line = file.string() + ": not a weights file (safetensors or torch.save zip): it is " + what +
                             "; pass the .safetensors or .pth file itself";
    const auto r = run_cli("run --protocol dg_acdc --scale ci --init file:" + file.string() + " --data-root " +
                           (dir / "no-data").string() + " --out " + (dir / "out").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::EndsWith("clcp-bench: error: " + line + "\n"));
    CHECK(r.output.find("data:") == std::string::npos);  // refused before the data is read
    const auto inspect = run_cli("weights inspect " + file.string());
    CHECK_THAT(inspect.output, Catch::Contains(line));
  }
}

// Defect 9a: --out naming a regular file said "output folder is not writable".
TEST_CASE("an output path naming a regular file says it is a file") {
  const fs::path dir = fresh_dir("outfile");
  clcp::write_atomic(dir / "results.txt", "a file");
  const auto r = run_cli(ci(clcp::test::small_synth_root(), dir / "results.txt"));
  CHECK(r.exit_code == 2);
  CHECK(r.output == "clcp-bench: error: " + (dir / "results.txt").string() +
                        ": exists and is a file, not a folder; choose another --out (or move the file away)\n");
}

// Defect 2: the manifest hashed names and byte sizes, so a train PNG with 2,400 changed pixels padded to the same
// size kept the cell id and the old bundle was reused as "already done".
TEST_CASE("a train PNG with changed pixels at the same byte size gives another cell id") {
  const fs::path data = data_copy("pixels");
  const fs::path out = fresh_dir("pixels_out");
  auto plan_of_run = [&] {
    fs::remove_all(out);
    CliProcess p(ci(data, out));
    REQUIRE(p.wait_until([&] { return !plan_cells(out).empty(); }));
    p.signal(SIGKILL);
    p.finish();
    return plan_cells(out);
  };
  const auto before = plan_of_run();
  const fs::path img = files_under(data / "cityscapes/leftImg8bit/train", ".png").front();
  const auto size = fs::file_size(img);
  cv::Mat m = cv::imread(img.string(), cv::IMREAD_COLOR);
  m(cv::Rect(10, 10, 60, 40)).setTo(cv::Scalar(0, 0, 255));  // 2,400 pixels
  std::vector<uchar> png;
  REQUIRE(cv::imencode(".png", m, png, {cv::IMWRITE_PNG_COMPRESSION, 9}));
  REQUIRE(png.size() <= size);
  png.resize(size, 0);  // padded after IEND to the old byte size
  clcp::write_atomic(img, std::string(png.begin(), png.end()));
  REQUIRE(fs::file_size(img) == size);
  const auto after = plan_of_run();
  REQUIRE(before.size() == 1);
  REQUIRE(after.size() == 1);
  CHECK(before[0] != after[0]);
}

// Defects 3 and 5: a hand-edited metrics.json went undetected (the report then said 54.15 in one table and 4.15 in
// another); a finished bundle is verified by report, compare and run.
TEST_CASE("a hand-edited metrics.json stops report, compare and run with a line naming it") {
  const auto& done = clcp::test::small_synth_ci_run();
  INFO(done.output);
  REQUIRE(done.exit_code == 0);
  const fs::path out = clcp::test::private_copy(done.out, "clcp_rel_edited");
  const fs::path cell = reliability_cell(out);
  // One digit of the source mIoU changed by hand, the file's size unchanged (as an editor leaves it).
  std::string m = clcp::read_file(cell / "metrics.json");
  const auto at = m.find("\"mIoU\": 0.0");
  REQUIRE(at != std::string::npos);
  m[at + 11] = m[at + 11] == '5' ? '4' : '5';
  clcp::write_atomic(cell / "metrics.json", m);
  const std::string problem = (cell / "metrics.json").string() + ": changed since the bundle was finished";
  const auto report = run_cli("report " + cell.string() + " --format md --out " + (out / "r").string());
  CHECK(report.exit_code == 2);
  CHECK_THAT(report.output, Catch::StartsWith("clcp-bench: error: " + problem));
  CHECK_THAT(report.output, Catch::EndsWith("; re-run the cell with --force, or pass --allow-unverified to use it "
                                            "marked 'not verified'\n"));
  const auto marked = run_cli("report " + cell.string() + " --format md --allow-unverified --out " + (out / "r").string());
  CHECK(marked.exit_code == 0);
  CHECK_THAT(clcp::read_file(out / "r/report.md"),
             Catch::Contains("done, NOT VERIFIED") && Catch::Contains("changed since the bundle was finished"));
  // status shows the cell as unverified with the problem, not the edited numbers.
  const auto status = run_cli("status " + out.string());
  INFO(status.output);
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.output, Catch::Contains("unverified   " + cell.filename().string()) &&
                                Catch::Contains("NOT VERIFIED: " + problem) &&
                                Catch::Contains("1 cells: 1 unverified") && !Catch::Contains("mIoU Cityscapes"));
  const auto compare = run_cli("compare " + cell.string() + " " + cell.string());
  CHECK(compare.exit_code == 2);
  CHECK_THAT(compare.output, Catch::Contains(problem));
  const auto compare_marked = run_cli("compare " + cell.string() + " " + cell.string() + " --allow-unverified");
  CHECK(compare_marked.exit_code == 0);
  CHECK_THAT(compare_marked.output, Catch::Contains("NOT VERIFIED (used with --allow-unverified): A: "));
  const auto rerun = run_cli(ci(clcp::test::small_synth_root(), out));
  CHECK(rerun.exit_code == 2);
  CHECK_THAT(rerun.output, Catch::Contains("cell " + cell.filename().string() + ": finished, but " + problem));
  CHECK_THAT(rerun.output, Catch::Contains("re-run it with --force"));
}

// Defect 4: with a full disk (3 MB tmpfs as --out) the only line named report.md, status.json stayed "running"
// with error null, and *.tmp.* files were left on the full disk.
TEST_CASE("a full disk names the first failing write, fails the cell with that line and leaves no temp files") {
  clcp::test::SmallTmpfs disk("full", "3m");
  if (!disk.mounted()) {
    WARN("skipped: cannot mount a 3 MB tmpfs here (" << disk.why_not() << "); CI runs as root and mounts one");
    return;
  }
  const auto r = run_cli(ci(clcp::test::small_synth_root(), disk.path()));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  const fs::path cell = reliability_cell(disk.path());
  REQUIRE(!cell.empty());
  const std::string first = (cell / "checkpoints/iter_6.safetensors").string() + ": cannot write ";
  CHECK(count_of(r.output, "clcp-bench: error: ") == 1);
  CHECK_THAT(r.output, Catch::Contains("clcp-bench: error: " + first));
  CHECK_THAT(r.output, Catch::EndsWith(" bytes: No space left on device); free space on that disk or choose another "
                                       "--out\n"));
  const auto st = clcp::read_json(cell / "status.json");
  CHECK(st["state"] == "failed");
  CHECK(st["stage"] == "finetune");
  CHECK_THAT(st["error"].get<std::string>(), Catch::StartsWith(first));
  for (const auto& f : files_under(disk.path(), "")) CHECK(f.filename().string().find(".tmp.") == std::string::npos);
  CHECK(!fs::exists(cell / "checkpoints/latest.json"));
  CHECK(!fs::exists(cell / "metrics.json"));
}

// Defect 8: a truncated train PNG printed libpng's own "libpng error: Read Error" (no file named) before our line.
TEST_CASE("a truncated train PNG stops the run with our line only, and no libpng message") {
  const fs::path data = data_copy("truncated");
  const fs::path img = files_under(data / "cityscapes/leftImg8bit/train", ".png").front();
  const std::string bytes = clcp::read_file(img);
  clcp::write_atomic(img, bytes.substr(0, bytes.size() / 2));
  const auto r = run_cli(ci(data, data / "results"));  // --threads 2: the loader's worker decodes ahead
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("libpng") == std::string::npos);
  CHECK_THAT(r.output, Catch::EndsWith("clcp-bench: error: " + img.string() +
                                       ": PNG does not decode (Read Error); re-download or regenerate it\n"));
  CHECK(state_of(reliability_cell(data / "results")) == "failed");
}

// Defect 8: a sample read ahead by the prefetcher after the last iteration printed libpng's line and the run exited
// 0; now nothing past the schedule is decoded.
TEST_CASE("the prefetcher decodes nothing past the last iteration") {
  const fs::path data = fresh_dir("prefetch");
  REQUIRE(run_cli("data synth --out " + data.string() + " --seed 5 --train-images 30 --val-images 4 "
                  "--acdc-per-condition 2").exit_code == 0);
  // The ci schedule draws 12 x 2 samples; batch 12 (the first past the end) would be prefetched.
  clcp::TrainLoader sampler(clcp::read_cityscapes(data / "cityscapes", "train"), {}, 0, 2, 0, 0);
  std::set<size_t> used;
  for (uint64_t it = 0; it < 12; ++it)
    for (int64_t k = 0; k < 2; ++k) used.insert(sampler.record_index(it, k));
  const size_t ahead = sampler.record_index(12, 0);
  REQUIRE(!used.count(ahead));
  const fs::path img = sampler.split().records[ahead].image;
  const std::string bytes = clcp::read_file(img);
  clcp::write_atomic(img, bytes.substr(0, bytes.size() / 2));
  const auto r = run_cli(ci(data, data / "results"));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("libpng") == std::string::npos);
  CHECK(r.output.find(img.filename().string()) == std::string::npos);
  // data check --decode finds it.
  const auto check = run_cli("data check --decode --data-root " + data.string());
  CHECK(check.exit_code == 2);
  CHECK_THAT(check.output, Catch::Contains("problem: " + img.string() + ": PNG does not decode (Read Error)"));
}

// Defect 8: `data check` did not decode files, so it passed a corrupt dataset; defect 9b: RGBA or gray camera
// images were converted without a note.
TEST_CASE("data check --decode lists every problem, and RGBA or gray camera images get a note") {
  const fs::path data = data_copy("check");
  const auto imgs = files_under(data / "cityscapes/leftImg8bit/train", ".png");
  const auto labels = files_under(data / "cityscapes/gtFine/val", "_labelTrainIds.png");
  REQUIRE(imgs.size() >= 3);
  const std::string bytes = clcp::read_file(imgs[0]);
  clcp::write_atomic(imgs[0], bytes.substr(0, bytes.size() - 100));
  REQUIRE(cv::imwrite(labels[0].string(), cv::Mat(3, 5, CV_8U, cv::Scalar(1))));
  cv::Mat rgba;
  cv::cvtColor(cv::imread(imgs[1].string()), rgba, cv::COLOR_BGR2BGRA);
  REQUIRE(cv::imwrite(imgs[1].string(), rgba));
  cv::Mat gray;
  cv::cvtColor(cv::imread(imgs[2].string()), gray, cv::COLOR_BGR2GRAY);
  REQUIRE(cv::imwrite(imgs[2].string(), gray));
  const auto plain = run_cli("data check --data-root " + data.string());
  CHECK(plain.exit_code == 0);  // without --decode only the layout and the manifests are read
  const auto r = run_cli("data check --decode --threads 2 --data-root " + data.string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("libpng") == std::string::npos);
  CHECK_THAT(r.output, Catch::Contains("problem: " + imgs[0].string() + ": PNG does not decode ("));
  CHECK_THAT(r.output, Catch::Contains("problem: " + labels[0].string() + ": label is 5x3 but image "));
  CHECK_THAT(r.output, Catch::Contains("note: " + imgs[1].string() + ": 8-bit RGBA image; its alpha channel is dropped"));
  CHECK_THAT(r.output, Catch::Contains("note: " + imgs[2].string() + ": 8-bit gray image; gray is replicated"));
  CHECK_THAT(r.output, Catch::EndsWith("clcp-bench: error: data check --decode: 2 of 20 images have a problem (listed "
                                       "above); re-download or regenerate those files\n"));
}
