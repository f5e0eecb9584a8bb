"""Checkpoints that are never half-written and never hold NaN: ``AtomicCheckpointHook``."""
import os
import os.path as osp
import tempfile
from typing import Optional, Union

from mmengine.dist import all_reduce, get_dist_info, is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper

from mmipose.registry import HOOKS
from mmipose.utils.checkpoint import find_non_finite_tensors, read_last_checkpoint

ATOMIC_LOCAL_BACKEND = 'mmipose_atomic_local'


def process_umask() -> int:
    """The process's file-mode creation mask, read without changing it.

    ``os.umask`` can only be read by setting it, which races with any thread creating files
    meanwhile; Linux reports it in ``/proc/self/status``. Elsewhere the mode of a probe file
    created with 0o666 tells it.
    """
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    fd, probe = tempfile.mkstemp()
    os.close(fd)
    os.remove(probe)
    fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    try:
        return 0o666 & ~os.fstat(fd).st_mode & 0o777
    finally:
        os.close(fd)
        os.remove(probe)


class NonFiniteCheckpointError(RuntimeError):
    """Raised instead of saving a checkpoint whose model state holds NaN or Inf."""


def atomic_write_bytes(data: bytes, filepath: Union[str, os.PathLike]) -> None:
    """Write ``data`` to ``filepath`` so that readers see either the old file or the complete new one.

    The bytes go to a temporary file in the same directory, are fsync'ed, and the file is
    renamed over ``filepath`` with ``os.replace`` (atomic on POSIX and Windows); the directory
    is fsync'ed so the rename survives a power loss. A crash leaves at most a stray
    ``.<name>.*.tmp`` file, never a truncated ``filepath``.
    """
    filepath = str(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f'.{osp.basename(filepath)}.', suffix='.tmp', dir=directory)
    try:
        os.chmod(tmp_path, 0o666 & ~process_umask())  # mkstemp makes 0600; match open()'s permissions
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise
    if hasattr(os, 'O_DIRECTORY'):
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@register_backend(ATOMIC_LOCAL_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend whose ``put``/``put_text`` write atomically."""

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, os.PathLike], encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` made crash-safe; same arguments and file layout.

    Differences from ``CheckpointHook``:

    - checkpoint files (periodic and best) are written through :class:`AtomicLocalBackend`
      (temp file + fsync + ``os.replace``), so a kill during saving never leaves a truncated
      ``iter_N.pth``;
    - ``work_dir/last_checkpoint`` (what ``--resume`` reads) is replaced atomically and only
      after the checkpoint file is complete;
    - outdated checkpoints (``max_keep_ckpts``) are deleted after the new one is saved, not
      before (MMEngine deletes first, so with ``max_keep_ckpts=1`` a crash left no checkpoint);
    - with ``check_finite=True`` a model state (parameters and buffers, EMA included) holding
      NaN/Inf is never saved: :class:`NonFiniteCheckpointError` names the tensors and the
      previous good checkpoint stays the latest. In distributed runs the decision is
      all-reduced so every rank stops together.

    Use it in configs as ``default_hooks.checkpoint.type='AtomicCheckpointHook'``. Remote
    backends (``backend_args`` naming another backend) keep MMEngine's plain writes.

    Args:
        check_finite (bool): Refuse to save non-finite model states. Defaults to True.
        **kwargs: ``CheckpointHook`` arguments (interval, by_epoch, max_keep_ckpts, ...).
    """

    def __init__(self, *args, check_finite: bool = True, backend_args: Optional[dict] = None, **kwargs):
        out_dir = kwargs.get('out_dir')
        is_local = out_dir is None or '://' not in str(out_dir)
        if backend_args is None and kwargs.get('file_client_args') is None and is_local:
            backend_args = dict(backend=ATOMIC_LOCAL_BACKEND)
        super().__init__(*args, backend_args=backend_args, **kwargs)
        self.check_finite = check_finite

    # ------------------------------------------------------------------ checks
    def _assert_finite_model(self, runner) -> None:
        if not self.check_finite:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        names, count = find_non_finite_tensors(model.state_dict())
        flag = [float(count > 0)]
        if get_dist_info()[1] > 1:
            import torch
            tensor = torch.tensor(flag, device=next(model.parameters()).device)
            all_reduce(tensor, op='max')
            flag = tensor.tolist()
        if flag[0] > 0:
            where = (f'{count} non-finite tensors, e.g. {names}' if count else 'non-finite tensors on another rank')
            raise NonFiniteCheckpointError(
                f'AtomicCheckpointHook: refusing to save a checkpoint at iteration {runner.iter + 1} '
                f'(epoch {runner.epoch}): the model state has {where}. The last good checkpoint '
                f'stays {read_last_checkpoint(runner.work_dir)!r}; resume from it with a lower '
                'learning rate or with NaNGuardHook(action="skip").')

    # ------------------------------------------------------------------ saving
    # MMEngine's CheckpointHook saves through private methods (_save_checkpoint,
    # _save_checkpoint_with_step); this hook overrides only the public hook methods and saves with
    # the public runner.save_checkpoint. The best-checkpoint path stays MMEngine's own (after the
    # finite check): its files go through the atomic backend too.
    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.by_epoch:
            return
        if self.every_n_train_iters(runner, self.interval, self.save_begin) or (self.save_last
                                                                                and self.is_last_train_iter(runner)):
            runner.logger.info(f'Saving checkpoint at {runner.iter + 1} iterations')
            self.save_checkpoint_at(runner, runner.iter + 1, dict(epoch=runner.epoch, iter=runner.iter + 1))

    def after_train_epoch(self, runner) -> None:
        if not self.by_epoch:
            return
        if self.every_n_epochs(runner, self.interval, self.save_begin) or (self.save_last
                                                                           and self.is_last_train_epoch(runner)):
            runner.logger.info(f'Saving checkpoint at {runner.epoch + 1} epochs')
            self.save_checkpoint_at(runner, runner.epoch + 1, dict(epoch=runner.epoch + 1, iter=runner.iter))

    def after_val_epoch(self, runner, metrics) -> None:
        if self.save_best is not None and metrics:
            self._assert_finite_model(runner)
        super().after_val_epoch(runner, metrics)

    def save_checkpoint_at(self, runner, step: int, meta: dict) -> None:
        """Save ``filename_tmpl.format(step)``: finite check, complete file, then pointer, then cleanup.

        Args:
            runner (Runner): the training runner.
            step (int): the epoch (``by_epoch``) or iteration of the checkpoint's name.
            meta (dict): ``epoch`` and ``iter`` stored in the checkpoint.
        """
        self._assert_finite_model(runner)
        stale_steps = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale_steps.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        # Only now, with the file complete, does the resume pointer move to it.
        atomic_write_bytes(str(self.last_ckpt).encode(), osp.join(runner.work_dir, 'last_checkpoint'))
        for stale_step in stale_steps:
            if stale_step == step:
                continue
            stale = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(stale_step))
            if self.file_backend.isfile(stale):
                self.file_backend.remove(stale)
            elif self.file_backend.isdir(stale):  # DeepSpeed checkpoints are directories
                self.file_backend.rmtree(stale)
