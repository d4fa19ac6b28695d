"""spconv 2.3.8 (CPU wheel, ConvAlgo.Native) as a second oracle for clcp-bench's sparse convolution
(tests/unit/parity/test_sparse_parity.cpp; sparse_conv_reference.md §3).

Usage: spconv_oracle.py IN.safetensors OUT.safetensors

IN holds, for each layer case c: `c.coords` int32 [N, 4] (x, y, z, b) in level-0 voxel units at tensor stride
`c.stride` (int64 scalar), `c.feats` [N, Cin], `c.kernel` in torchsparse 1.4.0 layout ([27|8, Cin, Cout] or
[Cin, Cout]), `c.kind` (int64: 3 = submanifold k3, 1 = k1, 2 = down k2 s2, -2 = transposed k2 s2 whose input is the
down output of `c.coords`), `c.grad` [N_out, Cout] (the upstream gradient, rows keyed by `c.out_coords`).
OUT holds `c.out_coords` (level-0 units, batch last, rows in spconv's order), `c.out_feats`, `c.grad_feats` (rows as
`c.coords`) and `c.grad_kernel` (torchsparse layout).

Weight conversion torchsparse → spconv (sparse_conv_reference.md §2.5, spconv indices [b, x, y, z]):
  3³: W_sp = W_ts.view(3, 3, 3, Cin, Cout)[c, b, a] → permute to [Cout, a, b, c, Cin]
  2³: W_sp[o, a, b, c, i] = W_ts[a·4 + b·2 + c, i, o]
  1³: the conv1x1 shortcut multiplies by weight.view(Cin, Cout) (spconv #450), so W_sp = W_ts.reshape(Cout, 1, 1, 1, Cin)
Exit 3 when spconv does not import (the C++ test then skips visibly).
"""
import sys

try:
    import torch
    import spconv.pytorch as spconv
    from spconv.core import ConvAlgo
    from safetensors.torch import load_file, save_file
except Exception as e:  # noqa: BLE001 - any import failure means: no oracle here
    print(f'spconv oracle unavailable: {type(e).__name__}: {e}')
    sys.exit(3)

# spconv's CPU backward asks torch.cuda for the current stream even for CPU tensors (ops.indice_conv_backward), which
# fails on a machine without a GPU; the stream is unused on the CPU path, so 0 stands in for it.
if not torch.cuda.is_available():
    import spconv.pytorch.ops as _ops
    _ops.get_current_stream = lambda: 0

# spconv 2.3.8's CPU Native path gives wrong and run-to-run different results when torch runs more than one intra-op
# thread (measured here: SubMConv3d on 1,500 voxels of a 32³ grid off by up to 7.8 against conv3d with 2 threads,
# exact to 5e-15 with 1; cf. the CPU run-to-run differences users report in spconv #584 and #679). One thread.
torch.set_num_threads(1)

GRID = 32  # level-0 extent, divisible by 16 (§3.4(b): odd extents drop voxels)


def to_sp(w, kind):
    if kind == 3:
        cin, cout = w.shape[1], w.shape[2]
        return w.view(3, 3, 3, cin, cout).permute(4, 2, 1, 0, 3).contiguous()  # [o, a, b, c, i] from [c, b, a, i, o]
    if kind in (2, -2):
        cin, cout = w.shape[1], w.shape[2]
        return w.view(2, 2, 2, cin, cout).permute(4, 0, 1, 2, 3).contiguous()  # [o, a, b, c, i] from [a, b, c, i, o]
    cin, cout = w.shape
    return w.reshape(cout, 1, 1, 1, cin).contiguous()


def from_sp_grad(g, kind, w_shape):
    if kind == 3:
        return g.permute(3, 2, 1, 4, 0).reshape(w_shape)
    if kind in (2, -2):
        return g.permute(1, 2, 3, 4, 0).reshape(w_shape)
    return g.reshape(w_shape)


def sp_indices(coords, stride):  # (x, y, z, b) level-0 → [b, x/s, y/s, z/s]
    c = coords.long()
    return torch.stack([c[:, 3], c[:, 0] // stride, c[:, 1] // stride, c[:, 2] // stride], 1).int()


def ts_coords(ind, stride):  # spconv [b, x, y, z] at a level → (x, y, z, b) level-0
    i = ind.long()
    return torch.stack([i[:, 1] * stride, i[:, 2] * stride, i[:, 3] * stride, i[:, 0]], 1).int()


def key(c):
    c = c.long()
    return ((c[:, 3] * 4096 + c[:, 0]) * 4096 + c[:, 1]) * 4096 + c[:, 2]


def reorder(rows_coords, want_coords):
    """Index that takes rows keyed by rows_coords into the order of want_coords."""
    kr, kw = key(rows_coords), key(want_coords)
    order = torch.argsort(kr)
    pos = torch.searchsorted(kr[order], kw)
    assert torch.equal(kr[order][pos], kw), 'coordinate sets differ'
    return order[pos]


def main():
    src = load_file(sys.argv[1])
    out = {}
    cases = sorted({k.split('.')[0] for k in src})
    for c in cases:
        coords, feats, w = src[f'{c}.coords'], src[f'{c}.feats'].double(), src[f'{c}.kernel'].double()
        stride, kind = int(src[f'{c}.stride']), int(src[f'{c}.kind'])
        batch = int(coords[:, 3].max()) + 1
        g = GRID // stride
        cin, cout = (w.shape[1], w.shape[2]) if w.dim() == 3 else w.shape
        feats = feats.clone().requires_grad_(True)
        wsp = to_sp(w, kind).requires_grad_(True)
        x = spconv.SparseConvTensor(feats, sp_indices(coords, stride), [g, g, g], batch)
        if kind == 3:
            conv = spconv.SubMConv3d(cin, cout, 3, bias=False, indice_key='k', algo=ConvAlgo.Native)
        elif kind == 1:
            conv = spconv.SubMConv3d(cin, cout, 1, bias=False, indice_key='k', algo=ConvAlgo.Native)
        elif kind == 2:
            conv = spconv.SparseConv3d(cin, cout, 2, 2, bias=False, indice_key='d', algo=ConvAlgo.Native)
        else:
            down = spconv.SparseConv3d(cin, cin, 2, 2, bias=False, indice_key='d', algo=ConvAlgo.Native).double()
            with torch.no_grad():
                coarse = down(spconv.SparseConvTensor(torch.zeros(coords.shape[0], cin, dtype=torch.double),
                                                      sp_indices(coords, stride), [g, g, g], batch))
            # the transposed input: our coarse features, moved into spconv's coarse row order
            coarse_ts = ts_coords(coarse.indices, 2 * stride)
            cfeats = src[f'{c}.coarse_feats'].double()
            perm = reorder(src[f'{c}.coarse_coords'], coarse_ts)
            feats = cfeats[perm].clone().requires_grad_(True)
            x = coarse.replace_feature(feats)
            conv = spconv.SparseInverseConv3d(cin, cout, 2, bias=False, indice_key='d', algo=ConvAlgo.Native)
        conv = conv.double()
        with torch.no_grad():
            conv.weight.copy_(wsp)
        y = conv(x)
        out_stride = stride * 2 if kind == 2 else stride
        y_coords = ts_coords(y.indices, out_stride)
        grad = src[f'{c}.grad'].double()[reorder(src[f'{c}.out_coords'], y_coords)]
        (y.features * grad).sum().backward()
        out[f'{c}.out_coords'] = y_coords.contiguous()
        out[f'{c}.out_feats'] = y.features.detach().contiguous()
        if kind == -2:
            out[f'{c}.grad_feats'] = feats.grad[reorder(coarse_ts, src[f'{c}.coarse_coords'])].contiguous()
        else:
            out[f'{c}.grad_feats'] = feats.grad.contiguous()
        out[f'{c}.grad_kernel'] = from_sp_grad(conv.weight.grad, kind, w.shape).contiguous()
    save_file(out, sys.argv[2])
    print(f'spconv {spconv.__version__ if hasattr(spconv, "__version__") else "2.3.8"}: {len(cases)} cases')


if __name__ == '__main__':
    main()
