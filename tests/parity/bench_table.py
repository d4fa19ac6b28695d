"""Joins ci/bench.sh's two result files into the README's Markdown table.

Usage: python bench_table.py CLCP.json TORCH.json
CLCP.json: Google Benchmark JSON of tests/bench/bench_model.cpp; TORCH.json: tests/parity/bench_torch.py's output.
Columns: clcp-bench and PyTorch throughput, the ratio clcp-bench / PyTorch, and each side's achieved FLOP/s as a
fraction of its own measured GEMM rate in the case's dtype (gemm_fp32/2048, or gemm_bf16/2048 for bf16 and bf16
autocast "amp"; FLOPs per iteration
counted by PyTorch's torch.utils.flop_counter on the same model: matmuls and convolutions only).
"""
import json
import sys


def main(clcp_path, torch_path):
    clcp = json.load(open(clcp_path))
    torch_ = json.load(open(torch_path))
    def short(name):  # "slide/1024x2048/bw/8/iterations:3/real_time" → "slide/1024x2048/bw8"
        parts = [p for p in name.split('/') if p != 'real_time' and not p.startswith('iterations:')]
        return '/'.join(parts).replace('/bw/', '/bw')

    ours = {short(b['name']): b for b in clcp['benchmarks'] if not b.get('error_occurred')}
    theirs = {b['name']: b for b in torch_['benchmarks']}
    unit = {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1.0}

    def secs(b):
        return b['real_time'] * unit[b['time_unit']]

    def gemm(results, name):  # the GEMM rate of the case's dtype (fp32 if bf16 was not measured)
        b = results.get('gemm_bf16/2048') if name.endswith(('bf16', 'amp')) else None
        return (b or results['gemm_fp32/2048'])['FLOP/s']

    rows = [('gemm_fp32/2048', 'fp32 GEMM 2048² (torch::mm / torch.mm)', 'GFLOP/s', 1e-9),
            ('gemm_bf16/2048', 'bf16 GEMM 2048² (torch::mm / torch.mm)', 'GFLOP/s', 1e-9)]
    rows += [('forward/fp32', 'forward, batch 8, 224², fp32', 'images/s', 1),
             ('forward/bf16', 'forward, batch 8, 224², bf16', 'images/s', 1),
             ('forward/amp', 'forward, batch 8, 224², bf16 autocast (fp32 weights)', 'images/s', 1),
             ('train_step/fp32', 'forward + loss + backward, batch 8, fp32', 'images/s', 1),
             ('train_step/bf16', 'forward + loss + backward, batch 8, bf16', 'images/s', 1),
             ('train_step/amp', 'forward + loss + backward, batch 8, bf16 autocast (fp32 weights)', 'images/s', 1),
             ('slide/1024x2048/bw1', 'slide inference 1024×2048 (72 windows), 1 window per forward', 'frames/s', 1),
             ('slide/1024x2048/bw8', 'slide inference 1024×2048, 8 windows per forward (ours only)', 'frames/s', 1)]
    print('| case | clcp-bench | PyTorch | clcp-bench / PyTorch | clcp-bench % of GEMM rate | PyTorch % of GEMM rate |')
    print('|---|---|---|---|---|---|')
    for name, label, rate, scale in rows:
        o, t = ours.get(name), theirs.get(name)
        if o is None and t is None:
            continue
        key = 'FLOP/s' if name.startswith('gemm') else rate
        ov = o[key] * scale if o else None
        tv = t[key] * scale if t else None
        flops = (t or {}).get('flops_per_iteration')
        if flops is None and name.startswith('slide') and 'slide/1024x2048/bw1' in theirs:
            flops = theirs['slide/1024x2048/bw1'].get('flops_per_iteration')
        frac_o = f'{100 * flops / secs(o) / gemm(ours, name):.0f} %' if (o and flops) else ''
        frac_t = f'{100 * flops / t["real_time_s"] / gemm(theirs, name):.0f} %' if (t and flops) else ''
        ratio = f'{ov / tv:.2f}' if (ov and tv) else ''
        unit_label = 'GFLOP/s' if name.startswith('gemm') else rate
        fmt = (lambda v: f'{v:.3g} {unit_label}' if v is not None else '—')
        print(f'| {label} | {fmt(ov)} | {fmt(tv)} | {ratio} | {frac_o} | {frac_t} |')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
