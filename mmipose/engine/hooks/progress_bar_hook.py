"""``ProgressBarHook``: a tqdm bar over training iterations, with the first losses."""
from mmengine.hooks import Hook
from tqdm import tqdm

from mmipose.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """A tqdm bar over ``total`` training iterations; the bar shows up to three losses.

    Args:
        total (int): iterations of the run.
        desc (str): the bar's label.
    """
    priority = 'VERY_LOW'

    def __init__(self, total: int, desc: str = 'train') -> None:
        self.total, self.desc = total, desc
        self.bar = None

    def before_train(self, runner) -> None:
        self.bar = tqdm(total=self.total, desc=self.desc, unit='it', dynamic_ncols=True, mininterval=1.0)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.bar.update(1)
        if outputs:
            loss = {k: v for k, v in outputs.items() if 'loss' in k}
            self.bar.set_postfix({k: f'{float(v):.3f}' for k, v in list(loss.items())[:3]})

    def after_train(self, runner) -> None:
        self.bar.close()
