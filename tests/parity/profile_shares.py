"""Shares of one train step's time per op kind, from tests/bench/profile_step.cpp's chrome traces (ci/bench.sh).

Usage: python profile_shares.py TRACE.json [TRACE.json …]   (one column per trace, e.g. step_fp32 and step_bf16)

Self time of an event = its duration minus its children's (events nest on one thread, as LibTorch's legacy profiler
records them). Each op's self time goes to one kind by its name: GEMM (mm, addmm, linear, the patch embedding's
convolution), attention (scaled_dot_product_attention and its backward, or the unfused form's softmax and bmm
that models/attention.hpp runs in bf16 on the CPU), norms (layer_norm), dtype
conversions (_to_copy / to and the copy_ under them: autocast's casts), loss (the logits' upsampling, log_softmax,
nll_loss), element-wise (gelu, add, mul, copy_, fill_, zero_, sum, clone …: memory-bound kernels), optimiser (all
under phase:optimizer) and the rest (views, autograd bookkeeping). Prints a Markdown table: ms per step and % of
the step per kind, then per phase (forward, loss, backward, optimizer).
"""
import json
import re
import sys

KINDS = ['GEMM', 'attention', 'norms', 'element-wise', 'dtype conversions', 'loss', 'optimiser', 'other']
GEMM = re.compile(r'^aten::(mm|addmm|bmm|baddbmm|linear|matmul|mkldnn_convolution|convolution_backward|'
                  r'_convolution|convolution|conv2d|mkldnn_linear.*|_addmm_activation)$')
# attention: the fused kernel, or the unfused form's softmax and batched matmuls (this model's only bmm outside
# attention is the mask head's small patch·class product, counted here too)
ATTN = re.compile(r'scaled_dot_product|^aten::_?softmax$|^aten::_softmax_backward_data$|^SoftmaxBackward|'
                  r'^aten::bmm$|^BmmBackward')
NORM = re.compile(r'layer_norm')
CONV = re.compile(r'^aten::(_to_copy|to|_autocast_to_reduced_precision|_autocast_to_full_precision)$')
LOSS = re.compile(r'^aten::(upsample_bilinear2d.*|_?log_softmax.*|nll_loss.*|cross_entropy_loss)$')
ELTW = re.compile(r'^aten::(gelu.*|add_?|mul_?|div_?|sub_?|copy_|fill_|zero_|zeros|zeros_like|ones_like|sum|clone|'
                  r'contiguous|cat|empty_like|threshold_backward|neg|where|index.*|masked_fill_?|dropout|'
                  r'native_dropout.*|bernoulli_?|rsub|sqrt|pow|exp|mean|select_backward|slice_backward|addcmul_|'
                  r'addcdiv_|lerp_|_foreach_.*|expand_backward|sum_to_size|mul_scalar)$')


def kind_of(name, ancestors):
    if 'phase:optimizer' in ancestors:
        return 'optimiser'
    if CONV.match(name) or (name == 'aten::copy_' and ancestors and CONV.match(ancestors[-1])):
        return 'dtype conversions'
    for k, rx in (('attention', ATTN), ('norms', NORM), ('GEMM', GEMM), ('loss', LOSS)):
        if rx.search(name):
            return k
    if any(rx.search(a) for a in ancestors for rx in (ATTN, NORM)):
        return 'attention' if any(ATTN.search(a) for a in ancestors) else 'norms'
    if any(LOSS.match(a) for a in ancestors):
        return 'loss'
    if ELTW.match(name):
        return 'element-wise'
    return 'other'


def shares(path):
    events = [e for e in json.load(open(path)) if e.get('ph') == 'X']
    steps = sum(1 for e in events if e['name'] == 'phase:forward')
    by_kind = dict.fromkeys(KINDS, 0.0)
    by_phase = {}
    for tid in {e['tid'] for e in events}:
        evs = sorted((e for e in events if e['tid'] == tid), key=lambda e: (e['ts'], -e['dur']))
        stack = []  # [event, child time]

        def close(until):
            while stack and stack[-1][0]['ts'] + stack[-1][0]['dur'] <= until + 1e-3:
                ev, child = stack.pop()
                names = [s[0]['name'] for s in stack]
                self_t = max(ev['dur'] - child, 0.0)
                if stack:
                    stack[-1][1] += ev['dur']
                phase = next((n for n in [ev['name']] + names[::-1] if n.startswith('phase:')), None)
                if ev['name'].startswith('phase:'):
                    by_phase[ev['name'][6:]] = by_phase.get(ev['name'][6:], 0.0) + ev['dur']
                if phase is None:
                    continue
                by_kind[kind_of(ev['name'], names + ([ev['name']] if ev['name'].startswith('phase:') else []))
                        if not ev['name'].startswith('phase:') else 'other'] += self_t

        for e in evs:
            close(e['ts'])
            stack.append([e, 0.0])
        close(float('inf'))
    total = sum(by_phase.values())
    return steps, total, by_kind, by_phase


def main(paths):
    cols = [shares(p) for p in paths]
    names = [re.sub(r'\.trace\.json$', '', p.split('/')[-1]) for p in paths]
    print('| per step | ' + ' | '.join(names) + ' |')
    print('|---|' + '---:|' * len(names))
    print('| wall time (ms) | ' + ' | '.join(f'{t / 1e3 / s:.0f}' for s, t, _, _ in cols) + ' |')
    for k in KINDS:
        print(f'| {k} | ' + ' | '.join(f'{100 * bk[k] / t:.1f} %' for _, t, bk, _ in cols) + ' |')
    for ph in ['forward', 'loss', 'backward', 'optimizer']:
        print(f'| phase: {ph} | ' + ' | '.join(f'{100 * bp.get(ph, 0) / t:.1f} %' for _, t, _, bp in cols) + ' |')


if __name__ == '__main__':
    main(sys.argv[1:])
