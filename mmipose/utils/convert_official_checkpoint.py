"""Convert the authors' released iPOSE checkpoints into an mmipose (MMEngine-style) checkpoint.

Examples:
    # PartNet (checkpoints/partsyn_model/models/best_G.pth of the official release)
    python tools/convert_official_checkpoint.py --partnet best_G.pth --out checkpoints/partnet_official.pth
    # A whole IPOSE model (PartNet is taken from the EMA file, as the reference infers with it)
    python tools/convert_official_checkpoint.py --generator best_G.pth --ema best_EMA.pth \
        --discriminator best_D.pth --out checkpoints/ipose_cityscapes_official.pth

The written file is ``{'meta': {...}, 'state_dict': {...}}``; configs point their
``partnet_checkpoint`` at it (``load_partnet_weights`` also accepts the official file directly).
After writing, the file is read back (``weights_only=True``) and loaded strictly into a fresh network.
"""
import argparse
import hashlib
import os
import os.path as osp

import torch

from mmipose.utils.official_checkpoint import OFFICIAL_CONVERTERS, count_parameters, make_checkpoint, read_checkpoint


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert official iPOSE checkpoints to mmipose checkpoints')
    for network in OFFICIAL_CONVERTERS:
        parser.add_argument(f'--{network}', metavar='PATH', help=f'official {network} checkpoint')
        parser.add_argument(
            f'--{network}-prefix',
            metavar='PREFIX',
            default=None,
            help=f'key prefix of {network} in the output (default: '
            f'{OFFICIAL_CONVERTERS[network][1]!r})')
    parser.add_argument('--out', required=True, help='output checkpoint path')
    args = parser.parse_args(argv)
    if not any(getattr(args, n.replace('-', '_')) for n in OFFICIAL_CONVERTERS):
        parser.error('give at least one of ' + ', '.join(f'--{n}' for n in OFFICIAL_CONVERTERS))
    return args


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def convert(args: argparse.Namespace) -> dict:
    """Convert every given network; returns the written checkpoint."""
    state_dict, sources = {}, {}
    for network, (converter, default_prefix) in OFFICIAL_CONVERTERS.items():
        path = getattr(args, network.replace('-', '_'))
        if not path:
            continue
        prefix = getattr(args, f'{network}_prefix'.replace('-', '_'))
        prefix = default_prefix if prefix is None else prefix
        hint = f"get the official {network} checkpoint from the authors' release (csyxwei/iPOSE README, Google Drive)"
        converted = converter(read_checkpoint(path, hint), name=path)
        overlap = set(state_dict) & {prefix + k for k in converted}
        if overlap:
            raise ValueError(f'{network}: keys collide with another network ({sorted(overlap)[:5]}); '
                             f'set --{network}-prefix')
        state_dict.update({prefix + k: v for k, v in converted.items()})
        sources[network] = dict(
            file=osp.basename(path),
            sha256=_sha256(path),
            prefix=prefix,
            num_tensors=len(converted),
            num_params=count_parameters(converted))
        print(f'{network}: {len(converted)} tensors, {count_parameters(converted):,} parameters from {path}')
    _add_ipose_extras(args, state_dict, sources)
    checkpoint = make_checkpoint(state_dict, dict(converted_from=sources, converter='mmipose official_checkpoint'))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save(checkpoint, args.out)
    _back_check(args.out, state_dict, sources)
    print(f'wrote {args.out}')
    return checkpoint


def _add_ipose_extras(args: argparse.Namespace, state_dict: dict, sources: dict) -> None:
    """For a whole IPOSE model (--generator/--ema): PartNet from the EMA file (else G) under
    ``part_inferencer.partnet.`` unless --partnet is given, and the EMA wrapper's step counter."""
    from mmipose.utils.official_checkpoint import IPOSE_EMA_PREFIX, IPOSE_PARTNET_PREFIX, convert_partnet_state_dict
    if getattr(args, 'ema', None) and getattr(args, 'ema_prefix', None) in (None, IPOSE_EMA_PREFIX):
        state_dict.setdefault('generator_ema.steps', torch.tensor(0, dtype=torch.long))
    source = getattr(args, 'ema', None) or getattr(args, 'generator', None)
    if source and not getattr(args, 'partnet', None):
        partnet = convert_partnet_state_dict(read_checkpoint(source), name=source)
        state_dict.update({IPOSE_PARTNET_PREFIX + k: v for k, v in partnet.items()})
        sources['partnet'] = dict(
            file=osp.basename(source),
            sha256=_sha256(source),
            prefix=IPOSE_PARTNET_PREFIX,
            num_tensors=len(partnet),
            num_params=count_parameters(partnet))
        print(f'partnet: {len(partnet)} tensors taken from {source} (the reference infers with this copy)')


def _back_check(path: str, state_dict: dict, sources: dict) -> None:
    """Re-read the written file safely and compare every tensor; load a PartNet-only file strictly."""
    written = read_checkpoint(path)['state_dict']
    if set(written) != set(state_dict) or any(not torch.equal(written[k], v) for k, v in state_dict.items()):
        raise RuntimeError(f'{path}: read-back differs from the converted state dict')
    if list(sources) == ['partnet'] and sources['partnet']['prefix'] == '':
        from mmipose.models.partnet import PartNet
        from mmipose.utils.official_checkpoint import load_partnet_weights
        load_partnet_weights(PartNet(), path)


def main(argv=None) -> None:
    convert(parse_args(argv))
