#include "models/segmenter.hpp"

namespace clcp {

SegmenterImpl::SegmenterImpl(const SegmenterOptions& o) : options_(o) {
  VitOptions vo;
  vo.img_size = o.img_size;
  vo.patch_size = o.patch_size;
  vo.embed_dim = o.embed_dim;
  vo.depth = o.depth;
  vo.num_heads = o.num_heads;
  vo.drop_path_rate = o.backbone_drop_path_rate;
  backbone = register_module("backbone", VisionTransformer(vo));
  MaskHeadOptions ho;
  ho.in_channels = o.embed_dim;
  ho.embed_dims = o.embed_dim;
  ho.num_classes = o.num_classes;
  ho.num_layers = o.head_layers;
  ho.num_heads = o.head_heads;
  ho.drop_path_rate = o.head_drop_path_rate;
  decode_head = register_module("decode_head", MaskTransformerHead(ho));
}

torch::Tensor SegmenterImpl::forward(const torch::Tensor& images) {
  auto tokens = backbone->forward_features(images);  // [B,1+g²,C]
  const int64_t B = tokens.size(0), C = tokens.size(2), g = backbone->grid_size();
  auto grid = tokens.slice(1, 1).transpose(1, 2).reshape({B, C, g, g});
  return decode_head->forward(grid);
}

void SegmenterImpl::init_weights(uint64_t seed) {
  backbone->init_weights(seed);
  decode_head->init_weights(seed);
}

void SegmenterImpl::set_drop_path_key(uint64_t seed, uint64_t step) {
  backbone->set_drop_path_key(DropPathKey{seed, step});
  decode_head->set_drop_path_key(DropPathKey{seed, step});
}

std::vector<torch::Tensor> SegmenterImpl::backbone_parameters() const { return backbone->parameters(); }
std::vector<torch::Tensor> SegmenterImpl::head_parameters() const { return decode_head->parameters(); }

void SegmenterImpl::freeze_backbone() {
  for (auto& p : backbone->parameters()) p.set_requires_grad(false);
}

}  // namespace clcp
