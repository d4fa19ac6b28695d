// Maps the state dicts of the weight files the thesis used onto clcp-bench's names: timm ViT names for the backbone
// (models/vit.hpp) and mmseg names for the Segmenter head (models/segmenter_head.hpp). Only keys are renamed and
// prefixes stripped; the one tensor transform is a pos_embed of another grid, resized as timm's checkpoint_filter_fn
// does (resample_abs_pos_embed, bicubic, antialias).
//
// Layouts recognised from the keys (first match wins; a leading "module." (DataParallel) is stripped first):
//   "clcp-lightning"  image_encoder.model.<timm>   (Nilgol/clcp Lightning .ckpt state_dict, clcp_reference.md §2);
//                     image_encoder.projection.*, point_cloud_encoder.*, lidar_encoder.*, temperature dropped
//   "liploc"          encoder_camera.model.<timm>  (LIP-Loc CLIPModelV1_vit, liploc_reference.md §5.2); fc.*,
//                     encoder_lidar.*, projection_* dropped — or model.<timm> + fc.* (the camera encoder alone)
//   "mmpretrain-timm" backbone.timm_model.<timm>   (the thesis's mmseg checkpoints, TIMMBackbone, §3.1)
//   "mmseg-vit"       [backbone.]layers.N.ln1 …    (mmseg VisionTransformer; the inverse of vit2mmseg,
//                     mmseg_reference.md §2.1); a missing patch_embed.projection.bias (mmseg ≥ 1.2 patch_bias=False,
//                     §1.6) becomes zeros, which is the same function
//   "timm"            [backbone.]<timm>            (timm / the CLCP and LIP-Loc extracts); head.* dropped
// decode_head.* is dropped from backbone maps (see map_segmenter for finetuned checkpoints).
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace clcp {

struct MappedWeights {
  std::map<std::string, torch::Tensor> tensors;  ///< timm ViT names ("blocks.0.attn.qkv.weight", …)
  std::string layout;                            ///< one of the layouts above ("+module" appended if stripped)
  std::vector<std::string> dropped;              ///< file keys not carried over (sorted)
  std::vector<std::string> notes;                ///< transforms applied ("pos_embed resized 24x24 → 14x14", …)
};

/// Maps a ViT-S/16 state dict onto timm names for a model with a `grid`×`grid` patch grid. Keys the map does not
/// know are kept (under their stripped names) so the caller's checked load reports them as unexpected.
/// Throws UserError if the tensors that are present describe another ViT than ViT-S/16 (embed dim 384, patch 16,
/// 12 blocks, 3 input channels).
/// `source` (the file name) starts every error line.
MappedWeights map_to_timm_vit(const std::map<std::string, torch::Tensor>& file, int64_t grid = 14,
                              const std::string& source = "weights");

/// Maps a finetuned Segmenter checkpoint (clcp-bench iter_N.safetensors, or an mmseg/mmpretrain iter_N state_dict
/// with backbone.timm_model.* or backbone.<mmseg ViT> plus decode_head.*) onto "backbone.<timm>" + "decode_head.*";
/// the unused v0.x decode_head.conv_seg.* is dropped.
MappedWeights map_segmenter(const std::map<std::string, torch::Tensor>& file, int64_t grid = 14,
                            const std::string& source = "checkpoint");

/// Key group of a timm ViT name for reports: "patch_embed", "pos_embed/cls_token", "blocks.N", "norm", or "other".
std::string vit_key_group(const std::string& timm_key);

}  // namespace clcp
