"""Benchmark PartNet: objects per second with cached supports, re-encoded supports and a naive path.

Modes (random weights and inputs; the numbers depend only on shapes):
  cached     ``bank.encoding(partnet)`` (cached after the first call) + ``partnet(query, index, enc)``
  re-encode  ``partnet.encode_supports(bank.supports)`` for all S bank sets at every call + forward
             (an uncached bank)
  naive      the reference's batched layout and work per call: every object expanded to 9 part rows,
             the query encoder and both support encoders run on all N*9 rows (k support rows each),
             attention through ``nn.MultiheadAttention`` seq-first (file reading not counted); also
             checks that its outputs equal the cached path

Columns: s/call = fastest timed call (least disturbed on a shared machine), median of the timed calls.

Example:
    python tools/analysis/benchmark_partnet.py --objects 1 16 128 --device cpu
"""
import argparse
import time
from typing import Callable, List, Tuple

import torch
import torch.nn.functional as F

from mmipose.models.partnet import PartNet, SupportBank
from mmipose.models.partnet.inputs import build_query_rows, build_support_rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--objects', type=int, nargs='+', default=[1, 16, 128])
    parser.add_argument('--device', nargs='+', default=None, help='cpu and/or cuda (default: cpu, +cuda if present)')
    parser.add_argument('--shots', type=int, default=3, help='k supports per category')
    parser.add_argument('--categories', type=int, default=8, help='S support sets in the bank (Cityscapes: 8)')
    parser.add_argument('--repeats', type=int, default=3, help='timed calls per cell (fewer if --max-seconds is hit)')
    parser.add_argument('--max-seconds', type=float, default=20.0, help='stop repeating a cell after this long')
    parser.add_argument('--naive-max-objects', type=int, default=16, help='skip the naive path above this N on CPU')
    parser.add_argument('--threads', type=int, default=None, help='torch.set_num_threads')
    return parser.parse_args(argv)


def naive_forward(net: PartNet, query: torch.Tensor, support_maps: torch.Tensor):
    """Reference layout: (N*9) part rows everywhere; support_maps (N, k, 9, H, W) per object."""
    n, shots, parts, h, w = support_maps.shape
    rows = build_query_rows(query).repeat_interleave(parts, 0)  # (N*9, 5, H, W)
    shape_rows, mask_rows = build_support_rows(support_maps)
    feature = net.shape_encoder(rows)
    supports = []
    for j in range(shots):
        shape_j = shape_rows[:, j].repeat_interleave(parts, 0)  # (N*9, 5, H, W)
        supports.append((net.shape_encoder(shape_j), net.mask_encoder(mask_rows[:, j].flatten(0, 1))))
    for layer in net.attention_layers:
        b, c, fh, fw = feature.shape

        def seq(x):
            return x.flatten(2).permute(2, 0, 1)

        keys = torch.cat([seq(layer.key_conv(s)) for s, _ in supports])
        values = torch.cat([seq(layer.value_conv(m)) for _, m in supports])
        attended = layer.multihead_attn(seq(layer.query_conv(feature)), keys, values)[0]
        x = seq(feature) + layer.ln1(attended)
        x = x + layer.mlp(layer.ln2(x))
        feature = x.view(fh, fw, b, c).permute(2, 3, 0, 1)
    decoded = net.decoder(feature)
    return decoded.view(n, -1, h, w), net.conv_img(decoded).view(n, parts, h, w)


def time_call(fn: Callable, device: str, repeats: int, max_seconds: float) -> Tuple[float, float]:
    """(fastest, median) seconds per call after one warm-up call; the fastest is the least disturbed
    by other processes on a shared machine."""
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    fn()
    sync()
    times: List[float] = []
    start_all = time.perf_counter()
    while len(times) < repeats and (not times or time.perf_counter() - start_all < max_seconds):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[0], times[len(times) // 2]


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.device or (['cpu'] + (['cuda'] if torch.cuda.is_available() else []))
    gen = torch.Generator().manual_seed(0)
    coarse = torch.randint(0, 9, (args.categories * args.shots, 1, 8, 8), generator=gen).float()
    maps = F.interpolate(coarse, (64, 64), mode='nearest')[:, 0].long().view(args.categories, args.shots, 64, 64)
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}, k={args.shots}, S={args.categories}')
    header = (f'{"device":6} {"N":>4} {"mode":10} {"s/call":>9} {"median":>9} {"objects/s":>10} {"vs naive":>9}  note')
    print(header)
    print('-' * len(header))
    for device in devices:
        net = PartNet().eval().to(device).requires_grad_(False)
        bank = SupportBank.from_arrays({c: maps[c].numpy() for c in range(args.categories)}).to(device)
        for n in args.objects:
            query = (torch.rand(n, 1, 64, 64, generator=gen) > 0.3).float().to(device)
            categories = torch.randint(0, args.categories, (n, ), generator=gen).to(device)
            index = bank.index_of(categories)
            results = {}
            with torch.inference_mode():
                results['cached'] = time_call(lambda: net(query, index, bank.encoding(net)), device, args.repeats,
                                              args.max_seconds)
                results['re-encode'] = time_call(lambda: net(query, index, net.encode_supports(bank.supports)), device,
                                                 args.repeats, args.max_seconds)
                note = ''
                if device.startswith('cuda') or n <= args.naive_max_objects:
                    per_object = bank.supports.index_select(0, index)
                    results['naive'] = time_call(lambda: naive_forward(net, query, per_object), device, args.repeats,
                                                 args.max_seconds)
                    ref_f, ref_l = naive_forward(net, query, per_object)
                    f, logits = net(query, index, bank.encoding(net))
                    note = (f'max |diff| vs naive: logits {(logits - ref_l).abs().max():.1e}, '
                            f'features {(f - ref_f).abs().max():.1e}')
            for mode, (seconds, median) in results.items():
                speedup = f'{results["naive"][0] / seconds:8.2f}x' if 'naive' in results else f'{"-":>9}'
                print(f'{device:6} {n:>4} {mode:10} {seconds:9.4f} {median:9.4f} {n / seconds:10.2f} {speedup}  '
                      f'{note if mode == "naive" else ""}')


if __name__ == '__main__':
    main()
