// ProcessGroupNCCL from the torch wheel's libtorch_cuda (CUDA tensors, one GPU per rank: cuda:LOCAL_RANK). Compiled
// when LibTorch has CUDA (USE_C10D_NCCL from torch_cuda) and CMake found nccl.h (CLCP_HAVE_NCCL); otherwise
// connect_nccl refuses with one line.
#include "suite/dist/backend_comm.hpp"
#include "suite/core/error.hpp"

#if defined(USE_C10D_NCCL) && defined(CLCP_HAVE_NCCL)
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace clcp::dist::detail {

#if defined(USE_C10D_NCCL) && defined(CLCP_HAVE_NCCL)

bool nccl_compiled() { return true; }

std::unique_ptr<Comm> connect_nccl(const RankEnv& env, const CommOptions& options) {
  const int gpus = static_cast<int>(c10::cuda::device_count());
  if (gpus < 1)
    fail("{}: the nccl backend needs a CUDA device and none is visible; use --device cpu (gloo)", env.describe());
  const int device = env.local_rank % gpus;
  auto store = make_store(env, options, "nccl");
  try {
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = options.timeout;
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world, o);
    return std::make_unique<BackendComm>(pg, "nccl", torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device)),
                                         store);
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    fail("{}: could not set up the NCCL process group ({}); check that each rank has its own GPU", env.describe(),
         what.substr(0, what.find('\n')));
  }
}

#else

bool nccl_compiled() { return false; }

std::unique_ptr<Comm> connect_nccl(const RankEnv& env, const CommOptions&) {
  fail("{}: this build has no NCCL backend (LibTorch without CUDA, or nccl.h not found at configure time); use "
       "--device cpu (gloo) or rebuild with the CUDA torch wheel",
       env.describe());
}

#endif

}  // namespace clcp::dist::detail
