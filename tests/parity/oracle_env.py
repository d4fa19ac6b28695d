"""Shared set-up for the parity oracles (tests/parity/*.py): makes mmseg 1.2.2 importable on mmcv-lite and reports
the oracle versions.

mmseg 1.2.2 asserts mmcv < 2.2.0; mmcv 2.1.0 ships only as a source package whose compiled ops need a CUDA/C++
build, so the oracle environment uses mmcv-lite 2.1.0 (the same Python code, no `mmcv._ext`). mmseg.utils imports
`mmcv.ops.point_sample` at import time (for Mask2Former, unused here), which fails with
`ModuleNotFoundError: No module named 'mmcv._ext'`. `install_mmcv_ops_stub()` registers a stand-in `mmcv.ops`
module whose members raise if called; nothing the parity tests use (transforms, IoUMetric, EncoderDecoder,
SegmenterMaskTransformerHead, SegDataPreProcessor) calls into mmcv.ops.

`python oracle_env.py --check` prints the versions as JSON and exits 0 when every oracle imports, else prints the
import error and exits 3. The oracle scripts call `require_oracles()` first, which does the same check and exits
3 (kOracleUnavailable in tests/unit/parity/oracle.hpp: the C++ test then skips visibly with the error).
"""
import json
import sys
import types


def install_mmcv_ops_stub():
    if 'mmcv.ops' in sys.modules:
        return
    ops = types.ModuleType('mmcv.ops')
    ops.__doc__ = 'stand-in for mmcv.ops: mmcv-lite has no compiled ops (see tests/parity/oracle_env.py)'

    def _missing(*_args, **_kwargs):
        raise RuntimeError('mmcv.ops is a stub in the parity oracle (mmcv-lite has no compiled ops)')

    def _getattr(name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _missing

    ops.__getattr__ = _getattr
    sys.modules['mmcv.ops'] = ops
    import mmcv
    mmcv.ops = ops


def import_mmseg():
    """Imports mmseg with the stub and registers its modules in the mmseg scope (as a config with
    default_scope='mmseg' does). Returns the mmseg module."""
    install_mmcv_ops_stub()
    import warnings
    warnings.filterwarnings('ignore')
    import mmseg
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    return mmseg


def versions():
    import cv2
    import numpy
    import torch
    out = {'python': sys.version.split()[0], 'torch': torch.__version__, 'numpy': numpy.__version__,
           'opencv-python': cv2.__version__}
    mmseg = import_mmseg()
    import cityscapesscripts
    import mmcv
    import mmengine
    import timm
    import torchmetrics
    out.update({'mmsegmentation': mmseg.__version__, 'mmcv(-lite)': mmcv.__version__,
                'mmengine': mmengine.__version__, 'timm': timm.__version__, 'torchmetrics': torchmetrics.__version__,
                'cityscapesscripts': getattr(cityscapesscripts, '__version__', 'installed'),
                'mmcv.ops': 'stub (mmcv-lite)'})
    return out


def require_oracles():
    """Imports every oracle; on failure prints the exact error and exits 3. Returns the versions dict."""
    try:
        v = versions()
    except Exception as e:  # report the exact import error for the test log and README
        print(f'oracle import failed: {type(e).__name__}: {e}')
        sys.exit(3)
    print('oracle versions: ' + json.dumps(v, sort_keys=True))
    return v


if __name__ == '__main__':
    require_oracles()
