"""The Markdown table of ci/bench_lidar.sh from its JSON outputs (clcp_t1.json, clcp_t2.json, spconv.json)."""
import json
import os
import sys

d = sys.argv[1]


def gbench(name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return {}
    # Google Benchmark appends "/real_time" to the names of UseRealTime() cases.
    return {b['name'].removesuffix('/real_time'): b for b in json.load(open(p))['benchmarks']
            if 'error_occurred' not in b}


t1, t2 = gbench('clcp_t1.json'), gbench('clcp_t2.json')
sp = json.load(open(os.path.join(d, 'spconv.json')))['cases'] if os.path.exists(os.path.join(d, 'spconv.json')) else {}
gemm1, gemm2 = (t.get('gemm_fp32/2048', {}).get('FLOP/s', float('nan')) for t in (t1, t2))
print(f'fp32 GEMM 2048²: {gemm1 / 1e9:.0f} GFLOP/s (1 thread), {gemm2 / 1e9:.0f} GFLOP/s (2 threads)\n')
print('| case | voxels | clcp-bench 1 thread | % of GEMM | clcp-bench 2 threads | % of GEMM | spconv 2.3.8, 1 thread | spconv time / clcp-bench time (1 thread; > 1: clcp-bench faster) |')
print('|---|---:|---:|---:|---:|---:|---:|---:|')
for frame in ('synthetic', 'a2d2'):
    for b in (1, 16):
        for mode in ('forward', 'train'):
            k = f'minkunet/{frame}/b{b}/{mode}'
            if k not in t1:
                continue
            a, c = t1[k], t2.get(k, {})
            ms1 = a['real_time']
            ms2 = c.get('real_time', float('nan'))
            s = sp.get(f'a2d2/b{b}/{mode}') if frame == 'a2d2' else None
            sp_ms = s['seconds'] * 1000 if s else float('nan')
            print(f"| {frame} b{b} {mode} | {int(a['voxels'])} | {ms1:.0f} ms ({a['voxels/s']:.0f} voxels/s) | "
                  f"{100 * a['FLOP/s'] / gemm1:.0f} % | {ms2:.0f} ms | {100 * c.get('FLOP/s', float('nan')) / gemm2:.0f} % | "
                  + (f"{sp_ms:.0f} ms | {sp_ms / ms1:.2f} |" if s else '– | – |'))
for k in ('dense/64/forward', 'sparse/64/forward'):
    if k in t1:
        print(f"| {k} ({int(t1[k]['voxels'])} voxels, 64³ grid) | | {t1[k]['real_time']:.0f} ms | | "
              f"{t2.get(k, {}).get('real_time', float('nan')):.0f} ms | | | |")
