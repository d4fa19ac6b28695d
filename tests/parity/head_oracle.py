"""Mask-head oracle: mmseg 1.2.2's own SegmenterMaskTransformerHead with the thesis's settings (clcp_reference.md
§3.1: 2 layers, 6 heads, 384 dims, 19 classes, dropout 0), loaded with clcp-bench's decode_head weights.
Usage: python head_oracle.py DIR
DIR/weights.safetensors: decode_head.<mmseg names> (other keys ignored); DIR/feats.safetensors {"feats": [B,384,14,14]
float64}. Writes DIR/out/oracle.safetensors {"logits32": float32 head on float32 feats, "logits64": the same in
float64}, both [B,19,14,14].
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_env import require_oracles  # noqa: E402


def main(d):
    require_oracles()
    import torch
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    from safetensors.torch import load_file, save_file

    register_all_modules()
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '2')))
    head = MODELS.build(dict(type='SegmenterMaskTransformerHead', in_channels=384, channels=384, num_classes=19,
                             num_layers=2, num_heads=6, embed_dims=384, dropout_ratio=0.0,
                             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
    sd = {k[len('decode_head.'):]: v for k, v in load_file(os.path.join(d, 'weights.safetensors')).items()
          if k.startswith('decode_head.')}
    missing, unexpected = head.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise SystemExit(f'state dict mismatch: missing {missing}, unexpected {unexpected}')
    head.eval()
    feats = load_file(os.path.join(d, 'feats.safetensors'))['feats']
    with torch.no_grad():
        logits32 = head([feats.float()])
        logits64 = head.double()([feats.double()])
    os.makedirs(os.path.join(d, 'out'), exist_ok=True)
    save_file({'logits32': logits32.contiguous(), 'logits64': logits64.contiguous()},
              os.path.join(d, 'out', 'oracle.safetensors'))
    print(f'head oracle: feats {tuple(feats.shape)} -> logits {tuple(logits32.shape)}')


if __name__ == '__main__':
    main(sys.argv[1])
