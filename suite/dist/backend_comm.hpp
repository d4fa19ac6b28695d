// Internal to suite/dist: a Comm over any c10d Backend (ProcessGroupGloo, ProcessGroupNCCL). Only the Backend's
// collectives are called — never gloo:: or nccl functions — so the gloo code inside libtorch_cpu is the only gloo the
// program runs (scaleout_reference.md §2.6).
#pragma once
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "suite/dist/comm.hpp"

namespace clcp::dist::detail {

class BackendComm final : public Comm {
 public:
  BackendComm(c10::intrusive_ptr<c10d::Backend> backend, std::string name, torch::Device device,
              c10::intrusive_ptr<c10d::Store> store);
  ~BackendComm() override;
  int rank() const override { return rank_; }
  int world() const override { return world_; }
  std::string backend() const override { return name_; }
  torch::Device device() const override { return device_; }
  void broadcast(torch::Tensor& t, int root) override;
  void allreduce_sum(std::vector<torch::Tensor>& tensors) override;
  torch::Tensor allgather_into(const torch::Tensor& x) override;
  torch::Tensor reduce_scatter_sum(const torch::Tensor& x) override;
  void barrier() override;

 private:
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* op) const;
  [[noreturn]] void failed(const char* op, const std::string& why) const;

  c10::intrusive_ptr<c10d::Backend> backend_;
  std::string name_;
  torch::Device device_;
  c10::intrusive_ptr<c10d::Store> store_;  // kept alive as long as the backend
  int rank_, world_;
};

/// The rendezvous store of `env` (FileStore or TCPStore) wrapped in PrefixStore("clcp/<restart>/<tag>").
c10::intrusive_ptr<c10d::Store> make_store(const RankEnv& env, const CommOptions& options, const std::string& tag);

std::unique_ptr<Comm> connect_gloo(const RankEnv& env, const CommOptions& options);
std::unique_ptr<Comm> connect_nccl(const RankEnv& env, const CommOptions& options);  // nccl_comm.cpp
bool nccl_compiled();                                                                 // nccl_comm.cpp

}  // namespace clcp::dist::detail
