// ProcessGroupGloo from the torch wheel, compiled against Debian's gloo headers (libgloo-dev, /usr/include/gloo) with
// the torch target's USE_C10D_GLOO. Rules (scaleout_reference.md §2.6), because those headers are older than the
// gloo inside libtorch_cpu: never construct ProcessGroupGloo::GlooStore, never call a gloo function or touch a
// gloo::Context/Device member (not even ProcessGroupGloo::setTimeout, which does), never link Debian's libgloo. The
// device is made by ProcessGroupGloo's own factory functions and handed over as an opaque shared_ptr.
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <cstdlib>

#include "suite/core/error.hpp"
#include "suite/dist/backend_comm.hpp"

#ifndef USE_C10D_GLOO
#error "suite/dist needs USE_C10D_GLOO (LibTorch's torch_cpu target defines it) and gloo's headers (libgloo-dev)"
#endif

namespace clcp::dist::detail {

namespace {

bool loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

}  // namespace

std::unique_ptr<Comm> connect_gloo(const RankEnv& env, const CommOptions& options) {
  auto store = make_store(env, options, "gloo");
  try {
    auto o = c10d::ProcessGroupGloo::Options::create(options.timeout);
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname && *ifname) {
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (!options.file_store.empty() || loopback(env.master_addr)) {
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    o->threads = std::max(1, options.gloo_threads);
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world, o);
    return std::make_unique<BackendComm>(pg, "gloo", torch::kCPU, store);
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    const std::string what = dynamic_cast<const c10::Error*>(&e)
                                 ? static_cast<const c10::Error&>(e).what_without_backtrace()
                                 : e.what();
    fail("{}: could not set up the Gloo process group ({}); check that every rank started with the same world size "
         "and that GLOO_SOCKET_IFNAME (if set) names a network interface",
         env.describe(), what.substr(0, what.find('\n')));
  }
}

}  // namespace clcp::dist::detail
