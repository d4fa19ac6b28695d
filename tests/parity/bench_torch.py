"""PyTorch side of the speed comparison (tests/bench/bench_model.cpp is the clcp-bench side; ci/bench.sh runs both).

The model is the parity oracle's (slide_oracle.build_model): timm ViT-S/16 + mmseg 1.2.2 SegmenterMaskTransformerHead
in mmseg's EncoderDecoder, random init. Same cases and names as bench_model.cpp:
  gemm_{fp32,bf16}/2048, forward/{fp32,bf16,amp} (model._forward, batch 8, 224², eval, no_grad),
  train_step/{fp32,bf16,amp} (model.loss — mmseg's CE on logits upsampled to 224², ignore 255 — then backward),
  slide/1024x2048/bw1 (EncoderDecoder.slide_inference: mmseg runs one window per forward).
bf16 = model and inputs converted to bfloat16 (no autocast), as on the C++ side; amp = fp32 model and inputs under
torch.autocast("cpu", dtype=torch.bfloat16) (for train_step: the forward and mmseg's loss inside it, as an mmseg
AmpOptimWrapper loop runs them).

Usage: python bench_torch.py OUT.json [--threads N] [--min-time S]
Prints one line per case and writes {"context": {...}, "benchmarks": [{"name", "real_time_s", <rate>}]}.
"""
import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_env import require_oracles  # noqa: E402


def timeit(fn, min_time, min_iters=3):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < min_iters or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sum(times) / len(times), len(times)


def cpu_has_bf16():
    flags = open('/proc/cpuinfo').read()
    return 'avx512_bf16' in flags or 'amx_bf16' in flags


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--min-time', type=float, default=3.0)
    a = ap.parse_args()
    versions = require_oracles()
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    from torch.utils.flop_counter import FlopCounterMode
    from slide_oracle import build_model

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    results = []

    def record(name, seconds, iters, rate_name, per_iter, flops=None):
        results.append({'name': name, 'real_time_s': seconds, 'iterations': iters, rate_name: per_iter / seconds})
        if flops is not None:  # FLOPs of one iteration (matmuls, convolutions), torch.utils.flop_counter
            results[-1]['flops_per_iteration'] = flops
        print(f'{name:28s} {seconds * 1e3:10.1f} ms  {rate_name} {per_iter / seconds:.4g}', flush=True)

    n = 2048
    dtypes = [('fp32', torch.float32)] + ([('bf16', torch.bfloat16)] if cpu_has_bf16() else [])
    gemm_dtypes = dtypes
    # amp: fp32 weights, bf16 autocast (measured against the bf16 GEMM rate)
    dtypes = dtypes + ([('amp', torch.float32)] if cpu_has_bf16() else [])
    for tag, dtype in gemm_dtypes:
        x, y = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        t, k = timeit(lambda: torch.mm(x, y), a.min_time)
        record(f'gemm_{tag}/2048', t, k, 'FLOP/s', 2.0 * n ** 3)

    for tag, dtype in dtypes:
        model = build_model().to(dtype).eval()
        inputs = torch.randn(8, 3, 224, 224).to(dtype)
        amp = torch.autocast('cpu', dtype=torch.bfloat16, enabled=(tag == 'amp'))
        with torch.no_grad(), amp:
            with FlopCounterMode(display=False) as fc:
                model._forward(inputs)
            t, k = timeit(lambda: model._forward(inputs), a.min_time)
        record(f'forward/{tag}', t, k, 'images/s', 8, fc.get_total_flops())

        model.train()
        samples = []
        for _ in range(8):
            s = SegDataSample()
            s.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, 224, 224)))
            s.set_metainfo(dict(img_shape=(224, 224), pad_shape=(224, 224)))
            samples.append(s)

        def step():
            model.zero_grad()
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=(tag == 'amp')):
                loss = model.loss(inputs, samples)['decode.loss_ce']
            loss.float().backward()

        with FlopCounterMode(display=False) as fc:
            step()
        t, k = timeit(step, a.min_time)
        record(f'train_step/{tag}', t, k, 'images/s', 8, fc.get_total_flops())

    model = build_model().eval()
    image = torch.randn(1, 3, 1024, 2048)
    metas = [dict(img_shape=(1024, 2048), ori_shape=(1024, 2048), pad_shape=(1024, 2048))]
    with torch.no_grad():
        with FlopCounterMode(display=False) as fc:
            model.slide_inference(image, metas)
        t, k = timeit(lambda: model.slide_inference(image, metas), 0.0, min_iters=2)
    record('slide/1024x2048/bw1', t, k, 'frames/s', 1, fc.get_total_flops())

    context = {'threads': a.threads, 'torch': torch.__version__, 'python': platform.python_version(),
               'mkldnn': torch.backends.mkldnn.is_available(), 'versions': versions,
               'torch_parallel_info': torch.__config__.parallel_info().splitlines()[:6]}
    json.dump({'context': context, 'benchmarks': results}, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
