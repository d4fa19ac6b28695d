"""Metric oracle: mmseg 1.2.2 IoUMetric, cityscapesScripts evalPixelLevelSemanticLabeling and torchmetrics'
MulticlassJaccardIndex on the same predictions and labels.

Usage: python metric_oracle.py DIR
DIR/cases.json: {"pairs": [{"pred": "p0.png", "label": "l0.png", "gt_label_ids": "official.png" | null}]}
  pred, label: uint8 trainId PNGs (label 255 = ignore). gt_label_ids: the official *_gtFine_labelIds.png the label
  was derived from; when null the cityscapesScripts GT is made from `label` with the official trainId→labelId table
  (255 → 0 'unlabeled', ignoreInEval). Predictions are converted trainId → labelId with the same table.
Writes DIR/out/results.json:
  mmseg: {"iou", "acc": 19 raw fractions from IoUMetric.total_area_to_metrics (null = NaN),
          "iou_table": the logged per-class table (×100, 2 decimals), "summary": compute_metrics() (aAcc/mIoU/mAcc)}
  cityscapes: {"iou": 19 values in trainId order, "mean": averageScoreClasses, "printed": per-class "%5.3f"}
  torchmetrics: {"iou": 19 values (classes with no label and no prediction reported by torchmetrics as given)}
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_env import require_oracles  # noqa: E402


def nan_to_none(values):
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v) for v in values]


def main(d):
    require_oracles()
    import torch
    from PIL import Image
    from mmseg.evaluation import IoUMetric
    from cityscapesscripts.helpers.labels import labels as cs_labels, trainId2label
    import cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling as cs_eval
    from torchmetrics.classification import MulticlassJaccardIndex

    spec = json.load(open(os.path.join(d, 'cases.json')))
    out_dir = os.path.join(d, 'out')
    os.makedirs(out_dir, exist_ok=True)
    names = [trainId2label[k].name for k in range(19)]

    # --- mmseg IoUMetric, fed as the test loop feeds it (one data sample per image) ---
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=names)
    tm = MulticlassJaccardIndex(num_classes=19, ignore_index=255, average=None)
    train_to_id = np.zeros(256, dtype=np.uint8)  # 255 and unused → 0 'unlabeled'
    for k in range(19):
        train_to_id[k] = trainId2label[k].id
    cs_preds, cs_gts = [], []
    for i, p in enumerate(spec['pairs']):
        pred = np.array(Image.open(os.path.join(d, p['pred'])))
        label = np.array(Image.open(os.path.join(d, p['label'])))
        sample = {'pred_sem_seg': {'data': torch.from_numpy(pred.astype(np.int64))[None]},
                  'gt_sem_seg': {'data': torch.from_numpy(label.astype(np.int64))[None]}}
        metric.process({}, [sample])
        tm.update(torch.from_numpy(pred.astype(np.int64)), torch.from_numpy(label.astype(np.int64)))
        pred_ids = os.path.join(out_dir, f'pred{i}_labelIds.png')
        Image.fromarray(train_to_id[pred]).save(pred_ids)
        if p.get('gt_label_ids'):
            gt_ids = os.path.join(d, p['gt_label_ids'])
        else:
            gt_ids = os.path.join(out_dir, f'gt{i}_gtFine_labelIds.png')
            Image.fromarray(train_to_id[label]).save(gt_ids)
        cs_preds.append(pred_ids)
        cs_gts.append(gt_ids)

    results = list(metric.results)
    summary = metric.compute_metrics(list(results))  # rounded as mmseg logs/returns them
    results = tuple(zip(*results))
    total = [sum(r) for r in results]  # area_intersect, area_union, area_pred_label, area_label
    ret = IoUMetric.total_area_to_metrics(*total, ['mIoU'])
    iou, acc = np.asarray(ret['IoU'], dtype=np.float64), np.asarray(ret['Acc'], dtype=np.float64)
    mm = {'iou': nan_to_none(iou.tolist()), 'acc': nan_to_none(acc.tolist()),
          'iou_table': nan_to_none(np.round(iou * 100, 2).tolist()),
          'summary': {k: float(v) for k, v in summary.items()},
          'area_intersect': [int(v) for v in total[0].tolist()], 'area_union': [int(v) for v in total[1].tolist()]}

    # --- cityscapesScripts, the official script's function with its own args ---
    args = cs_eval.args
    args.evalInstLevelScore = False
    args.JSONOutput = False
    args.quiet = True
    args.evalLabels = [l.id for l in cs_labels if l.id >= 0]
    res = cs_eval.evaluateImgLists(cs_preds, cs_gts, args)
    cs_iou = [res['classScores'][n] for n in names]
    cs = {'iou': nan_to_none(cs_iou), 'mean': res['averageScoreClasses'],
          'printed': ['nan' if math.isnan(v) else f'{v:5.3f}' for v in cs_iou],
          'printed_mean': f"{res['averageScoreClasses']:5.3f}"}

    tmr = {'iou': nan_to_none(tm.compute().tolist())}
    json.dump({'mmseg': mm, 'cityscapes': cs, 'torchmetrics': tmr}, open(os.path.join(out_dir, 'results.json'), 'w'),
              indent=1)
    print('metric oracle: mmseg', mm['summary'], 'cityscapes mean', cs['printed_mean'])


if __name__ == '__main__':
    main(sys.argv[1])
