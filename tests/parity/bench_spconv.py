"""MinkUNet34-W32 on spconv 2.3.8's CPU path (ConvAlgo.Native), the side-by-side reference of
tests/bench/bench_minkunet.cpp for ci/bench_lidar.sh. Same network shape (mmdet3d 1.4.0's layer table, spconv
layers: SubMConv3d k3/k1, SparseConv3d k2 s2, SparseInverseConv3d k2 on the down conv's indice_key), random
weights, the same voxelisation (5 cm, round half to even, per-sample minimum, first point per voxel) on the same
clouds, one torch thread (spconv's CPU path is wrong with more, tests/parity/spconv_oracle.py).

Usage: bench_spconv.py CLOUDS.safetensors OUT.json   (CLOUDS: "cloud0", "cloud1", … [N, 4] float32)
Writes {"cases": {"a2d2/b1/forward": {"seconds", "voxels"}, …}} with the median of several runs.
Exit 3 when spconv does not import.
"""
import json
import statistics
import sys
import time

try:
    import torch
    import spconv.pytorch as spconv
    from spconv.core import ConvAlgo
    from safetensors.torch import load_file
except Exception as e:  # noqa: BLE001
    print(f'spconv bench unavailable: {type(e).__name__}: {e}')
    sys.exit(3)

torch.set_num_threads(1)
if not torch.cuda.is_available():
    import spconv.pytorch.ops as _ops
    _ops.get_current_stream = lambda: 0
A = ConvAlgo.Native


def voxelize(clouds, vs=0.05):
    feats, coords = [], []
    for b, p in enumerate(clouds):
        c = torch.round(p[:, :3] / vs).long()
        c -= c.min(0).values
        key = (c[:, 0] * (1 << 18) + c[:, 1]) * (1 << 18) + c[:, 2]
        s, perm = torch.sort(key, stable=True)
        first = torch.ones_like(s, dtype=torch.bool)
        first[1:] = s[1:] != s[:-1]
        rep = perm[first]
        feats.append(p[rep])
        coords.append(torch.cat([torch.full((rep.numel(), 1), b), c[rep]], 1))  # spconv: batch first
    return torch.cat(feats), torch.cat(coords).int()


class Block(torch.nn.Module):
    def __init__(self, cin, cout, key):
        super().__init__()
        self.c1 = spconv.SubMConv3d(cin, cout, 3, bias=False, indice_key=key, algo=A)
        self.b1 = torch.nn.BatchNorm1d(cout)
        self.c2 = spconv.SubMConv3d(cout, cout, 3, bias=False, indice_key=key, algo=A)
        self.b2 = torch.nn.BatchNorm1d(cout)
        self.ds = None
        if cin != cout:
            self.ds = spconv.SubMConv3d(cin, cout, 1, bias=False, indice_key=key + 'k1', algo=A)
            self.bd = torch.nn.BatchNorm1d(cout)

    def forward(self, x):
        h = self.c1(x)
        h = h.replace_feature(torch.relu(self.b1(h.features)))
        h = self.c2(h)
        h = h.replace_feature(self.b2(h.features))
        s = x.features if self.ds is None else self.bd(self.ds(x).features)
        return h.replace_feature(torch.relu(h.features + s))


class MinkUNet34(torch.nn.Module):
    def __init__(self):
        super().__init__()
        enc, blocks, dec = [32, 64, 128, 256], [2, 3, 4, 6], [256, 128, 96, 96]
        self.i0 = spconv.SubMConv3d(4, 32, 3, bias=False, indice_key='s1', algo=A)
        self.i1 = spconv.SubMConv3d(32, 32, 3, bias=False, indice_key='s1', algo=A)
        self.ib = torch.nn.ModuleList([torch.nn.BatchNorm1d(32), torch.nn.BatchNorm1d(32)])
        self.down, self.dbn, self.enc = torch.nn.ModuleList(), torch.nn.ModuleList(), torch.nn.ModuleList()
        c = 32
        for i in range(4):
            self.down.append(spconv.SparseConv3d(c, c, 2, 2, bias=False, indice_key=f'd{i}', algo=A))
            self.dbn.append(torch.nn.BatchNorm1d(c))
            self.enc.append(torch.nn.ModuleList(
                [Block(c if j == 0 else enc[i], enc[i], f's{2 ** (i + 1)}') for j in range(blocks[i])]))
            c = enc[i]
        lat = [enc[2], enc[1], enc[0], 32]
        self.up, self.ubn, self.dec = torch.nn.ModuleList(), torch.nn.ModuleList(), torch.nn.ModuleList()
        for i in range(4):
            self.up.append(spconv.SparseInverseConv3d(c, dec[i], 2, bias=False, indice_key=f'd{3 - i}', algo=A))
            self.ubn.append(torch.nn.BatchNorm1d(dec[i]))
            self.dec.append(torch.nn.ModuleList([Block(dec[i] + lat[i], dec[i], f's{2 ** (3 - i)}'),
                                                 Block(dec[i], dec[i], f's{2 ** (3 - i)}')]))
            c = dec[i]

    def forward(self, x):
        for conv, bn in ((self.i0, self.ib[0]), (self.i1, self.ib[1])):
            x = conv(x)
            x = x.replace_feature(torch.relu(bn(x.features)))
        lats = [x]
        for i in range(4):
            x = self.down[i](x)
            x = x.replace_feature(torch.relu(self.dbn[i](x.features)))
            for b in self.enc[i]:
                x = b(x)
            lats.append(x)
        lats = lats[:-1][::-1]
        for i in range(4):
            x = self.up[i](x)
            x = x.replace_feature(torch.cat([torch.relu(self.ubn[i](x.features)), lats[i].features], 1))
            for b in self.dec[i]:
                x = b(x)
        return x.features


def main():
    clouds_all = load_file(sys.argv[1])
    net = MinkUNet34()
    out = {'threads': 1, 'cases': {}}
    for batch in (1, 16):
        clouds = [clouds_all[f'cloud{i}'] for i in range(batch)]
        for mode in ('forward', 'train'):
            times, voxels = [], 0
            for rep in range(3 if batch == 1 else 1):
                t0 = time.perf_counter()  # voxelisation included, as in bench_minkunet
                f, c = voxelize(clouds)
                voxels = f.shape[0]
                shape = [int(((c[:, k].max() + 1 + 15) // 16) * 16) for k in (1, 2, 3)]
                x = spconv.SparseConvTensor(f, c, shape, batch)
                if mode == 'train':
                    net.train()
                    net.zero_grad()
                    net(x).sum().backward()
                else:
                    net.eval()
                    with torch.no_grad():
                        net(x)
                times.append(time.perf_counter() - t0)
            out['cases'][f'a2d2/b{batch}/{mode}'] = {'seconds': statistics.median(times), 'voxels': voxels}
            print(f'spconv a2d2/b{batch}/{mode}: {statistics.median(times):.3f} s, {voxels} voxels', flush=True)
    json.dump(out, open(sys.argv[2], 'w'), indent=1)


if __name__ == '__main__':
    main()
