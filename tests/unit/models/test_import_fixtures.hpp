// Checkpoint fixtures for the import tests, written once per test process by the venv's Python (torch, timm,
// safetensors) into a scratch folder: one random timm ViT-S/16 saved in every layout the importer reads.
#pragma once
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "support/python_oracle.hpp"

namespace clcp::test {

inline const char* kImportFixtureScript = R"PY(
import sys, collections, torch, timm, numpy as np, safetensors.torch as st
from timm.layers import resample_abs_pos_embed
d = sys.argv[1]
torch.manual_seed(0)
m = timm.create_model('vit_small_patch16_224', pretrained=False, num_classes=1000)
sd = m.state_dict()                                   # OrderedDict with _metadata, 152 keys incl. head.*
plain = {k: v.clone() for k, v in sd.items()}
st.save_file({k: v.contiguous() for k, v in sd.items()}, f'{d}/timm.safetensors')
torch.save(plain, f'{d}/plain.pth')
torch.save(sd, f'{d}/ordered.pth')
torch.save({'state_dict': plain, 'epoch': 3}, f'{d}/wrapped_state_dict.pth')
torch.save({'model': plain}, f'{d}/wrapped_model.pth')
torch.save({'module.' + k: v for k, v in plain.items()}, f'{d}/module.pth')
# storages tagged cuda:0 although this machine has no GPU: the file a CUDA run writes
orig = torch.serialization.location_tag
torch.serialization.location_tag = lambda s: 'cuda:0'
torch.save(plain, f'{d}/cuda_tagged.pth')
torch.serialization.location_tag = orig
body = {k: v for k, v in plain.items() if not k.startswith('head.')}
# LIP-Loc CLIPModelV1_vit (liploc_reference.md 5.2), as a plain dict
lip = {'encoder_camera.model.' + k: v for k, v in body.items()}
lip.update({'encoder_lidar.model.' + k: v + 1 for k, v in body.items()})
lip.update({'encoder_camera.fc.weight': torch.randn(2048, 384), 'encoder_camera.fc.bias': torch.randn(2048),
            'projection_camera.projection.weight': torch.randn(256, 2048), 'projection_camera.layer_norm.bias': torch.randn(256)})
torch.save(lip, f'{d}/liploc.pth')
cam = {'model.' + k: v for k, v in body.items()}
cam.update({'fc.weight': torch.randn(2048, 384), 'fc.bias': torch.randn(2048)})
st.save_file(cam, f'{d}/liploc_camera.safetensors')
# CLCP Lightning checkpoint (clcp_reference.md 1.9, 2)
clcp = {'image_encoder.model.' + k: v for k, v in body.items()}
clcp.update({'image_encoder.projection.weight': torch.randn(256, 384), 'point_cloud_encoder.conv0.weight': torch.randn(8, 4),
             'lidar_encoder.stem.weight': torch.randn(3), 'temperature': torch.tensor(0.07)})
def lightning(state_dict, optimizer_states, hp):
    return {'epoch': 19, 'global_step': 1900, 'pytorch-lightning_version': '2.1.0', 'state_dict': state_dict,
            'loops': {'fit_loop': {'epoch_progress': {'current': {'completed': 19, 'ready': 20}}}},
            'callbacks': {"ModelCheckpoint{'monitor': 'val_loss'}": {'best_model_score': torch.tensor(4.73),
                          'dirpath': '/ckpt', 'best_k_models': {'/ckpt/a.ckpt': torch.tensor(4.73), '/ckpt/b.ckpt': torch.tensor(4.8)}}},
            'optimizer_states': optimizer_states, 'lr_schedulers': [{'last_epoch': 19, 'base_lrs': [1e-3, 1e-3]}, {'last_epoch': 0, 'base_lrs': [1e-3, 1e-3]}],
            'hyper_parameters': hp}
two_opts = [{'state': {0: {'step': torch.tensor(3.0), 'exp_avg': torch.zeros(3)}, 1: {'step': torch.tensor(3.0)}},
             'param_groups': [{'lr': 1e-3, 'params': [0, 1]}, {'lr': 1e-4, 'params': [2, 3]}]}] * 2
torch.save(lightning(clcp, two_opts, {'lr': 1e-3, 'batch_size': 256, 'embed_dim': 256}), f'{d}/clcp.ckpt')
open(f'{d}/clcpcfg.py', 'w').write("class Config:\n    def __init__(self): self.depth = 12; self.name = 'vit'\n")
sys.path.insert(0, d)
import clcpcfg
torch.save(lightning(clcp, two_opts, {'lr': 1e-3, 'cfg': clcpcfg.Config()}), f'{d}/clcp_custom.ckpt')
class Custom:
    def __init__(self): self.depth = 12
torch.save(lightning(clcp, two_opts, {'lr': 1e-3, 'cfg': Custom()}), f'{d}/clcp_main_class.ckpt')
torch.save(lightning(clcp, two_opts, {'lr': 1e-3, 'mean': np.zeros(3)}), f'{d}/clcp_numpy.ckpt')
real = collections.OrderedDict(clcp); real._metadata = collections.OrderedDict({'': {'version': 1}})
torch.save(lightning(real, [two_opts[0]], {'lr': 1e-3}), f'{d}/clcp_real.ckpt')
torch.save(lightning(clcp, [two_opts[0]], {'lr': 1e-3}), f'{d}/clcp_one_optimizer.ckpt')
# mmseg VisionTransformer names (vit2mmseg rules, mmseg_reference.md 2.1) inside an mmengine-style Segmenter file
def vit2mmseg(k):
    if k.startswith('norm.'): return k.replace('norm.', 'ln1.')
    if k.startswith('patch_embed.proj.'): return k.replace('patch_embed.proj.', 'patch_embed.projection.')
    if k.startswith('blocks.'):
        k = k.replace('blocks.', 'layers.').replace('norm1', 'ln1').replace('norm2', 'ln2')
        k = k.replace('attn.qkv.weight', 'attn.attn.in_proj_weight').replace('attn.qkv.bias', 'attn.attn.in_proj_bias')
        k = k.replace('attn.proj.', 'attn.attn.out_proj.').replace('mlp.fc1.', 'ffn.layers.0.0.').replace('mlp.fc2.', 'ffn.layers.1.')
    return k
seg = {'backbone.' + vit2mmseg(k): v for k, v in body.items()}
seg.update({'decode_head.cls_emb': torch.randn(1, 19, 384), 'decode_head.mask_norm.weight': torch.ones(19),
            'decode_head.conv_seg.weight': torch.randn(19, 384, 1, 1), 'decode_head.conv_seg.bias': torch.zeros(19)})
torch.save({'meta': {'iter': 80000, 'seed': 0}, 'state_dict': seg}, f'{d}/mmseg_iter.pth')
seg_tb = {'backbone.timm_model.' + k: v for k, v in body.items()}
seg_tb.update({'decode_head.cls_emb': torch.randn(1, 19, 384)})
st.save_file(seg_tb, f'{d}/mmpretrain_iter.safetensors')
# 384-px model: pos_embed 577 tokens; timm's own resample is the oracle
torch.manual_seed(1)
m384 = timm.create_model('vit_small_patch16_384', pretrained=False, num_classes=0)
s384 = {k: v.contiguous() for k, v in m384.state_dict().items()}
st.save_file(s384, f'{d}/vit384.safetensors')
st.save_file({'pos_embed': resample_abs_pos_embed(s384['pos_embed'], (14, 14), num_prefix_tokens=1).contiguous()}, f'{d}/vit384_ref.safetensors')
missing = {k: v for k, v in body.items() if k != 'blocks.3.attn.qkv.weight'}
st.save_file(missing, f'{d}/missing_qkv.safetensors')
# legacy (non-zip) torch.save
torch.save({'a': torch.zeros(1)}, f'{d}/legacy.pth', _use_new_zipfile_serialization=False)
print('ok')
)PY";

/// The fixture folder, created on first use (10–30 s) and kept under the temp dir keyed by the script's hash, so
/// the per-test-case processes CTest starts reuse it; "" when the venv's Python is unavailable.
inline const std::filesystem::path& import_fixtures() {
  static const std::filesystem::path ready = cached_python_fixtures("clcp_import_fixtures", kImportFixtureScript);
  return ready;
}

}  // namespace clcp::test
