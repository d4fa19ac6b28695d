#include "suite/dist/backend_comm.hpp"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <fmt/format.h>

#include "suite/core/error.hpp"

namespace clcp::dist::detail {

namespace {

// The first line, without gloo's "[<its source path>:<line>] " prefix.
std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  if (!line.empty() && line[0] == '[') {
    const size_t close = line.find("] ");
    if (close != std::string::npos && line.substr(0, close).find(".cc:") != std::string::npos)
      line = line.substr(close + 2);
  }
  return line;
}

std::string message_of(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return first_line(c->what_without_backtrace());
  return first_line(e.what());
}

}  // namespace

c10::intrusive_ptr<c10d::Store> make_store(const RankEnv& env, const CommOptions& options, const std::string& tag) {
  c10::intrusive_ptr<c10d::Store> store;
  const std::string where = options.file_store.empty()
                                ? fmt::format("{}:{}", env.master_addr, env.master_port)
                                : "file " + options.file_store.string();
  try {
    if (!options.file_store.empty()) {
      store = c10::make_intrusive<c10d::FileStore>(options.file_store.string(), env.world);
    } else {
      c10d::TCPStoreOptions o;
      o.port = static_cast<std::uint16_t>(env.master_port);
      o.isServer = env.rank == 0;
      o.numWorkers = static_cast<std::size_t>(env.world);
      o.waitWorkers = true;
      o.timeout = options.timeout;
      store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    }
    store->setTimeout(options.timeout);
  } catch (const std::exception& e) {
    fail("{}: could not join the process group at {} ({}); check that every rank started and that MASTER_ADDR/"
         "MASTER_PORT name rank 0's host and a free port",
         env.describe(), where, message_of(e));
  }
  return c10::make_intrusive<c10d::PrefixStore>(fmt::format("clcp/{}/{}", env.restart, tag), store);
}

BackendComm::BackendComm(c10::intrusive_ptr<c10d::Backend> backend, std::string name, torch::Device device,
                         c10::intrusive_ptr<c10d::Store> store)
    : backend_(std::move(backend)),
      name_(std::move(name)),
      device_(device),
      store_(std::move(store)),
      rank_(backend_->getRank()),
      world_(backend_->getSize()) {}

BackendComm::~BackendComm() = default;

void BackendComm::failed(const char* op, const std::string& why) const {
  fail("rank {} of {}: {} over {} failed ({}); another rank probably stopped or timed out: see its error", rank_,
       world_, op, name_, why);
}

void BackendComm::wait(const c10::intrusive_ptr<c10d::Work>& work, const char* op) const {
  try {
    work->wait();
  } catch (const std::exception& e) {
    failed(op, message_of(e));
  }
}

void BackendComm::broadcast(torch::Tensor& t, int root) {
  std::vector<torch::Tensor> ts{t};
  c10d::BroadcastOptions o;
  o.rootRank = root;
  try {
    wait(backend_->broadcast(ts, o), "broadcast");
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    failed("broadcast", message_of(e));
  }
}

void BackendComm::allreduce_sum(std::vector<torch::Tensor>& tensors) {
  // c10d's vector is "one tensor per device" and would sum the tensors into each other: one call per tensor.
  for (auto& t : tensors) {
    std::vector<torch::Tensor> one{t};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    try {
      wait(backend_->allreduce(one, o), "allreduce");
    } catch (const UserError&) {
      throw;
    } catch (const std::exception& e) {
      failed("allreduce", message_of(e));
    }
  }
}

torch::Tensor BackendComm::allgather_into(const torch::Tensor& x) {
  auto in = x.contiguous();
  std::vector<int64_t> shape = in.sizes().vec();
  if (shape.empty()) fail("allgather_into: expected a tensor [B, ...], got a 0-dim one");
  shape[0] *= world_;
  auto out = torch::empty(shape, in.options());
  try {
    wait(backend_->all_gather_single(out, in, c10d::AllgatherOptions()), "allgather");
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    failed("allgather", message_of(e));
  }
  return out;
}

torch::Tensor BackendComm::reduce_scatter_sum(const torch::Tensor& x) {
  auto in = x.contiguous();
  if (in.dim() < 1 || in.size(0) % world_ != 0)
    fail("reduce_scatter_sum: {} rows do not split into {} equal parts", in.dim() < 1 ? 0 : in.size(0), world_);
  std::vector<int64_t> shape = in.sizes().vec();
  shape[0] /= world_;
  auto out = torch::empty(shape, in.options());
  c10d::ReduceScatterOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  try {
    wait(backend_->reduce_scatter_single(out, in, o), "reduce_scatter");
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    failed("reduce_scatter", message_of(e));
  }
  return out;
}

void BackendComm::barrier() {
  c10d::BarrierOptions o;
  if (device_.is_cuda()) o.device_ids = {device_.index()};
  try {
    wait(backend_->barrier(o), "barrier");
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    failed("barrier", message_of(e));
  }
}

}  // namespace clcp::dist::detail
