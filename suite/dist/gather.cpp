#include "suite/dist/gather.hpp"

#include <cstdint>

namespace clcp::dist {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class GatherWithGrad : public torch::autograd::Function<GatherWithGrad> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, int64_t comm_ptr) {
    ctx->saved_data["comm"] = comm_ptr;  // the Comm outlives the graph (the loop owns both)
    return reinterpret_cast<Comm*>(comm_ptr)->allgather_into(x.contiguous());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto* comm = reinterpret_cast<Comm*>(ctx->saved_data["comm"].toInt());
    // A non-contiguous incoming grad (e.g. from a transpose) must be made contiguous before the collective, or rows
    // would be read in the wrong order (pytorch #120386).
    return {comm->reduce_scatter_sum(grads[0].contiguous()), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gather_with_grad(Comm& comm, const torch::Tensor& x) {
  if (comm.world() == 1) return x;
  return GatherWithGrad::apply(x, static_cast<int64_t>(reinterpret_cast<intptr_t>(&comm)));
}

}  // namespace clcp::dist
