#include "suite/dist/grad_sync.hpp"

#include <functional>

namespace clcp::dist {

namespace {

// Packs consecutive tensors of one dtype and device into flat buffers of at most bucket_bytes, runs `op` on each
// buffer and copies the result back into the tensors.
void bucketed(const std::vector<torch::Tensor>& ts, int64_t bucket_bytes,
              const std::function<void(torch::Tensor&)>& op) {
  torch::NoGradGuard ng;
  size_t i = 0;
  while (i < ts.size()) {
    size_t j = i;
    int64_t bytes = 0;
    do {
      bytes += ts[j].numel() * static_cast<int64_t>(ts[j].element_size());
      ++j;
    } while (j < ts.size() && ts[j].scalar_type() == ts[i].scalar_type() && ts[j].device() == ts[i].device() &&
             bytes + ts[j].numel() * static_cast<int64_t>(ts[j].element_size()) <= bucket_bytes);
    std::vector<torch::Tensor> flat;
    for (size_t k = i; k < j; ++k) flat.push_back(ts[k].reshape({-1}));
    torch::Tensor buf = torch::cat(flat);
    op(buf);
    int64_t off = 0;
    for (size_t k = i; k < j; ++k) {
      const int64_t n = ts[k].numel();
      ts[k].copy_(buf.narrow(0, off, n).view(ts[k].sizes()));
      off += n;
    }
    i = j;
  }
}

}  // namespace

void broadcast_tensors(Comm& comm, const std::vector<torch::Tensor>& tensors, int root, int64_t bucket_bytes) {
  if (comm.world() == 1 || tensors.empty()) return;
  bucketed(tensors, bucket_bytes, [&](torch::Tensor& buf) { comm.broadcast(buf, root); });
}

void broadcast_module(Comm& comm, torch::nn::Module& module, int root) {
  if (comm.world() == 1) return;
  std::vector<torch::Tensor> ts;
  for (const auto& p : module.named_parameters(true)) ts.push_back(p.value());
  for (const auto& b : module.named_buffers(true)) ts.push_back(b.value());
  broadcast_tensors(comm, ts, root);
}

void broadcast_buffers(Comm& comm, torch::nn::Module& module, int root) {
  if (comm.world() == 1) return;
  std::vector<torch::Tensor> ts;
  for (const auto& b : module.named_buffers(true)) ts.push_back(b.value());
  broadcast_tensors(comm, ts, root);
}

void average_gradients(Comm& comm, const std::vector<torch::Tensor>& params, int64_t bucket_bytes) {
  if (comm.world() == 1 || params.empty()) return;
  const auto n = static_cast<int64_t>(params.size());
  auto has = torch::zeros({n}, torch::kFloat32);
  for (int64_t k = 0; k < n; ++k) has[k] = params[static_cast<size_t>(k)].grad().defined() ? 1.0f : 0.0f;
  std::vector<torch::Tensor> flags{has.to(comm.device())};
  comm.allreduce_sum(flags);
  const auto any = flags[0].cpu();
  std::vector<torch::Tensor> grads;
  for (int64_t k = 0; k < n; ++k) {
    torch::Tensor p = params[static_cast<size_t>(k)];
    if (any[k].item<float>() == 0.0f) continue;  // no rank has a gradient: the optimiser skips it everywhere
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  const double w = comm.world();
  bucketed(grads, bucket_bytes, [&](torch::Tensor& buf) {
    std::vector<torch::Tensor> one{buf};
    comm.allreduce_sum(one);
    buf.div_(w);
  });
}

}  // namespace clcp::dist
