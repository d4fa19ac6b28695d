// Collectives of one data-parallel group (scaleout_reference.md §2.1–2.6). LibTorch's C++ frontend has no DDP module,
// so the pretraining loop broadcasts parameters, averages gradients and gathers embeddings itself through this
// interface. Implementations:
//   SingleComm   world 1: every collective is the identity (nothing is copied or sent).
//   gloo         c10d ProcessGroupGloo on CPU tensors, through the c10d Backend API only (the torch wheel carries
//                gloo's code; Debian's libgloo-dev provides only the headers, its library is never linked — §2.6).
//   nccl         c10d ProcessGroupNCCL on CUDA tensors; compiled when LibTorch has CUDA and nccl.h is found
//                (nccl_available()).
// Rendezvous: a c10d FileStore on a path all ranks see (one node: `clcp-bench pretrain --nproc`) or a TCPStore served
// by rank 0 at MASTER_ADDR:MASTER_PORT (torchrun, srun), wrapped in a PrefixStore keyed by the restart count so a
// restarted job never reads an earlier attempt's keys.
//
// Every rank must call the same collectives in the same order with tensors of the same shape and dtype, or the job
// blocks until the timeout. A collective that fails (a peer died, the timeout passed) throws UserError:
// "rank R of W: <op> failed (<c10d's first line>); another rank probably stopped — see its error".
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "suite/dist/rank_env.hpp"

namespace clcp::dist {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int world() const = 0;
  virtual std::string backend() const = 0;  ///< "single", "gloo" or "nccl"
  /// Where this backend's tensors live: CPU (single, gloo) or the rank's CUDA device (nccl).
  virtual torch::Device device() const = 0;

  /// t (contiguous, any dtype, on device()) := root's t, in place.
  virtual void broadcast(torch::Tensor& t, int root) = 0;
  /// Each tensor (contiguous) := its element-wise sum over the ranks, in place; one collective per tensor, in order.
  virtual void allreduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  /// x [B, ...] contiguous, the same shape on every rank → [W·B, ...] with rank r's rows at [r·B, (r+1)·B).
  virtual torch::Tensor allgather_into(const torch::Tensor& x) = 0;
  /// x [W·B, ...] contiguous → [B, ...]: for this rank r, the sum over ranks s of rows [r·B, (r+1)·B) of s's x.
  /// Throws UserError when x.size(0) is not a multiple of W.
  virtual torch::Tensor reduce_scatter_sum(const torch::Tensor& x) = 0;
  /// Returns when every rank has called it.
  virtual void barrier() = 0;
};

/// World 1: broadcast, allreduce_sum and barrier do nothing; allgather_into and reduce_scatter_sum return x itself.
class SingleComm final : public Comm {
 public:
  explicit SingleComm(torch::Device device = torch::kCPU) : device_(device) {}
  int rank() const override { return 0; }
  int world() const override { return 1; }
  std::string backend() const override { return "single"; }
  torch::Device device() const override { return device_; }
  void broadcast(torch::Tensor&, int) override {}
  void allreduce_sum(std::vector<torch::Tensor>&) override {}
  torch::Tensor allgather_into(const torch::Tensor& x) override { return x; }
  torch::Tensor reduce_scatter_sum(const torch::Tensor& x) override { return x; }
  void barrier() override {}

 private:
  torch::Device device_;
};

struct CommOptions {
  std::string backend = "gloo";          ///< "gloo" (CPU tensors) or "nccl" (CUDA tensors)
  std::filesystem::path file_store;      ///< non-empty: rendezvous through a FileStore file at this path (every rank
                                         ///< must see it), else a TCPStore at env.master_addr:master_port
  std::chrono::milliseconds timeout{std::chrono::minutes(60)};  ///< per collective and for the rendezvous
  int gloo_threads = 1;                  ///< Gloo's worker threads per process
};

/// A SingleComm when env.world == 1; otherwise joins the group of env.world ranks as env.rank (blocks until every
/// rank has arrived). Throws UserError for an unknown backend, "nccl" in a build without it, or a rendezvous that
/// fails ("could not join the process group … : <reason>; check that every rank started and MASTER_ADDR/MASTER_PORT
/// name rank 0").
std::unique_ptr<Comm> connect(const RankEnv& env, const CommOptions& options);

/// True when this build has ProcessGroupNCCL (LibTorch with CUDA and nccl.h at configure time).
bool nccl_available();

// ---- helpers on top of the collectives; every rank calls them together -----------------------------------------

/// root's string, on every rank.
std::string broadcast_string(Comm& comm, const std::string& s, int root = 0);
/// true on every rank when `flag` is true on at least one.
bool any_rank(Comm& comm, bool flag);
/// The ranks whose `value` differs from rank 0's (the same list on every rank; empty when all agree).
std::vector<int> ranks_differing_from_root(Comm& comm, const std::string& value);
/// Refuses to start unless every rank's `plan` (the plan/protocol fingerprint and the cell id, or whatever must be
/// equal) equals rank 0's. Throws the same decision on every rank: a differing rank gets "rank R of W: plan <its>
/// differs from rank 0's <root's>; every rank must run the same command on the same data, inits and protocol: refusing
/// to start", the agreeing ranks "rank R of W: rank(s) … disagree with rank 0's plan <root's> (their errors name
/// theirs); refusing to start".
void require_same_plan(Comm& comm, const std::string& plan);
/// Root runs f first while the others wait, then the others run it. If root's f throws, root rethrows and every
/// other rank throws UserError "rank R of W: rank 0 failed while <what> (its error is above); stopping too".
/// Use for first-use work that must not race (rendering the embedded data, hashing files into a shared cache).
void root_first(Comm& comm, const std::string& what, const std::function<void()>& f);

}  // namespace clcp::dist
