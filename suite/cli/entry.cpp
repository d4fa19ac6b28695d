// clcp-bench's verbs behind one entry (main.cpp, and tests that drive the verbs in-process). Turns every error into one line a user can act on (DESIGN.md "Errors"): UserError
// messages are shown as they are; LibTorch/OpenCV/JSON exceptions are reduced to their first line and labelled as
// internal so a raw stack trace never reaches the user.
#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <opencv2/core.hpp>

#include "suite/cli/commands.hpp"
#include "suite/core/error.hpp"
#include "suite/core/signals.hpp"

namespace clcp::cli {

namespace {
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{
      "clcp-bench: does a way of pretraining an image encoder make semantic segmentation generalise better under "
      "domain shift? Finetunes Segmenter ViT-S/16 on Cityscapes, evaluates on Cityscapes val and ACDC val, reports "
      "mIoU and rPD = mIoU_ACDC / mIoU_Cityscapes.\n\nStart with:  clcp-bench data synth --out data/synth && "
      "clcp-bench run --protocol dg_acdc --scale smoke",
      "clcp-bench"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "clcp-bench 0.1.0");
  add_run(app);
  std::string command_line = "clcp-bench";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
  set_command_line(command_line);
  set_arguments(std::vector<std::string>(argv + 1, argv + argc));
  add_eval(app);
  add_weights(app);
  add_data(app);
  add_protocols(app);
  add_report(app);
  add_compare(app);
  add_pretrain(app);
  add_methods(app);
  add_gate(app);
  add_status(app);
  spdlog::set_pattern("%v");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help and --version are 0; every usage error is 2, as a UserError
  } catch (const Exit& e) {
    return e.code;
  } catch (const clcp::Interrupted& e) {
    // SIGINT → 130, SIGTERM → 143 (128 + signal, as the shell reports a process ended by it).
    std::cerr << "clcp-bench: stopped: " << e.what() << "\n";
    return e.exit_code();
  } catch (const clcp::UserError& e) {
    std::cerr << "clcp-bench: error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "clcp-bench: internal LibTorch error: " << first_line(e.what_without_backtrace())
              << " (please report this with the command you ran)\n";
    return 3;
  } catch (const cv::Exception& e) {
    std::cerr << "clcp-bench: internal OpenCV error: " << first_line(e.what()) << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "clcp-bench: error: " << first_line(e.what()) << "\n";
    return 3;
  }
  return 0;
}

}  // namespace clcp::cli
