"""Process-group set-up and teardown for the tools' distributed runs."""
from datetime import timedelta

import torch.distributed as torch_dist


def destroy_process_group(wait_for_all: bool = True) -> None:
    """Tear down the default process group, if any, before the process exits.

    Without it a rank can exit while its gloo/NCCL threads still run, and the C++ runtime aborts
    at interpreter exit ("terminate called without an active exception"), turning a finished run
    into a non-zero exit status.

    Args:
        wait_for_all (bool): Barrier first, so no rank tears down while another still needs it.
            Pass False on an error path (a barrier there could wait for a rank that died).
    """
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    if wait_for_all:
        torch_dist.barrier()
    torch_dist.destroy_process_group()


def configure_cpu_distributed(cfg) -> None:
    """CPU-only distributed runs: gloo backend, CPU DDP and no SyncBN (changes ``cfg`` in place).

    MMEngine reads the backend from ``env_cfg.dist_cfg`` (the runtimes say 'nccl') and passes
    ``device_ids=[LOCAL_RANK]`` to DDP, both CUDA-only. Its pytorch launcher also calls
    ``torch.cuda.set_device``, so without CUDA the process group is initialised here (env://
    variables set by torchrun) and the Runner reuses it. Nothing happens with CUDA or without a
    launcher.

    Args:
        cfg (mmengine.Config): the runner config, with ``launcher`` set.
    """
    import torch
    from mmengine.logging import print_log
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return
    if cfg.launcher != 'pytorch':
        raise RuntimeError(f'--launcher {cfg.launcher} needs CUDA; on CPU use --launcher pytorch '
                           '(tools/dist_train.sh CONFIG NPROC).')
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg.dist_cfg = dict()
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is not None:
        cfg.model_wrapper_cfg['device_ids'] = None
    else:
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)
    if cfg.get('sync_bn'):
        print_log(f'sync_bn={cfg.sync_bn!r} ignored: SyncBatchNorm needs CUDA.', logger='current')
        cfg.sync_bn = None
    if not torch_dist.is_initialized():
        dist_cfg = {k: v for k, v in cfg.env_cfg.dist_cfg.items() if k != 'backend'}
        if 'timeout' in dist_cfg and not isinstance(dist_cfg['timeout'], timedelta):
            dist_cfg['timeout'] = timedelta(seconds=dist_cfg['timeout'])
        torch_dist.init_process_group(backend='gloo', **dist_cfg)
    print_log(
        f'No CUDA: distributed training on CPU with the gloo backend '
        f'(rank {torch_dist.get_rank()} of {torch_dist.get_world_size()}).',
        logger='current')
