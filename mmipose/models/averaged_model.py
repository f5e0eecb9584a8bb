"""An exponential moving average of a model that keeps working after the model is moved."""
from mmagic.models.base_models import ExponentialMovingAverage

from mmipose.registry import MODELS


@MODELS.register_module()
class DeviceSafeEMA(ExponentialMovingAverage):
    """MMagic's ``ExponentialMovingAverage`` whose averaged tensors follow ``.to()`` / ``.cuda()``.

    The base class caches the tensors to average (``avg_parameters``: ``module.state_dict()``
    with ``update_buffers=True``) when it is built. The Runner builds the model on the CPU and
    then calls ``model.to(device)``, which gives every buffer (and every parameter's ``.data``) new
    storage; the cached tensors still point at the old CPU storage, so ``update_parameters`` would
    average into copies nobody reads and the EMA generator would keep its initial weights. This
    class re-reads the cached tensors after every ``_apply`` (``to``, ``cuda``, ``float``,
    ``half``, ...). Numerically it is the same update:
    ``ema = (1 - momentum) * ema + momentum * model`` (the first update copies the model).

    Args: see :class:`mmagic.models.base_models.ExponentialMovingAverage`.
    """

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        self.avg_parameters = (
            self.module.state_dict() if self.update_buffers else dict(self.module.named_parameters()))
        return self
