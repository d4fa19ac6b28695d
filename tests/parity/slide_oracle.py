"""Slide-inference oracle: mmseg 1.2.2's EncoderDecoder in slide mode with the thesis's model (clcp_reference.md
§3.1) — timm vit_small_patch16_224 returning all 197 tokens after the final norm (a re-statement of mmpretrain's
TIMMBackbone with num_classes=0 and reset_classifier(0, '')), the thesis's patched extract_feat (drop the CLS token,
reshape to B×384×14×14), mmseg's own SegmenterMaskTransformerHead and SegDataPreProcessor (ImageNet mean/std,
BGR→RGB), test pipeline LoadImageFromFile → Resize(scale, keep_ratio) → PackSegInputs, test_step → seg_logits at
the original size and pred_sem_seg.

Usage: python slide_oracle.py DIR SCALE_W SCALE_H
DIR/weights.safetensors: clcp-bench Segmenter state dict (backbone.<timm names>, decode_head.<mmseg names>).
DIR/image.png: the BGR frame. Writes DIR/out/oracle.safetensors {"logits": [19,H,W] float32, "pred": [H,W] int64}.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_env import require_oracles  # noqa: E402


def build_model():
    import timm
    import torch
    from mmengine.config import ConfigDict
    from mmengine.model import BaseModule
    from mmseg.models.segmentors import EncoderDecoder
    from mmseg.registry import MODELS

    @MODELS.register_module(force=True)
    class ThesisTimmViT(BaseModule):
        """mmpretrain TIMMBackbone('vit_small_patch16_224', num_classes=0) after reset_classifier(0, ''):
        forward returns (B×197×384 tokens after the final LayerNorm,)."""

        def __init__(self):
            super().__init__()
            self.timm_model = timm.create_model('vit_small_patch16_224', pretrained=False, num_classes=0,
                                                global_pool='')

        def forward(self, x):
            return (self.timm_model(x),)

    class ThesisEncoderDecoder(EncoderDecoder):
        """finetune_eval/mmsegmentation/mmseg/models/segmentors/encoder_decoder.py extract_feat patch."""

        def extract_feat(self, inputs):
            feats = self.backbone(inputs)
            return [f[:, 1:].transpose(1, 2).reshape(f.shape[0], f.shape[2], 14, 14) for f in feats]

    model = ThesisEncoderDecoder(
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255,
                               size=(224, 224)),
        backbone=dict(type='ThesisTimmViT'),
        decode_head=dict(type='SegmenterMaskTransformerHead', in_channels=384, channels=384, num_classes=19,
                         num_layers=2, num_heads=6, embed_dims=384, dropout_ratio=0.0,
                         loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        test_cfg=ConfigDict(mode='slide', crop_size=(224, 224), stride=(168, 168)))
    return model


def main(d, scale_w, scale_h):
    require_oracles()
    import torch
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '2')))
    model = build_model()
    sd = load_file(os.path.join(d, 'weights.safetensors'))
    sd = {('backbone.timm_model.' + k[len('backbone.'):] if k.startswith('backbone.') else k): v for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise SystemExit(f'state dict mismatch: missing {missing}, unexpected {unexpected}')
    model.eval()
    pipeline = Compose([dict(type='LoadImageFromFile'), dict(type='Resize', scale=(scale_w, scale_h), keep_ratio=True),
                        dict(type='PackSegInputs')])
    batch = pseudo_collate([pipeline(dict(img_path=os.path.join(d, 'image.png')))])
    t0 = time.time()
    with torch.no_grad():
        out = model.test_step(batch)[0]
    print(f'slide oracle: img_shape {out.metainfo["img_shape"]} ori_shape {out.metainfo["ori_shape"]} '
          f'{time.time() - t0:.1f} s')
    os.makedirs(os.path.join(d, 'out'), exist_ok=True)
    save_file({'logits': out.seg_logits.data.float().contiguous(), 'pred': out.pred_sem_seg.data[0].long().contiguous()},
              os.path.join(d, 'out', 'oracle.safetensors'))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
