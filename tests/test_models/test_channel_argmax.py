import pytest
import torch

from mmipose.models.channel_argmax import channel_argmax


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16, torch.float64])
@pytest.mark.parametrize('keepdim', [False, True])
def test_channel_argmax_is_argmax_over_channels_ties_included(dtype, keepdim):
    torch.manual_seed(0)
    scores = torch.randint(0, 3, (3, 9, 17, 33)).to(dtype)  # many ties: the first maximum wins
    onehot = torch.nn.functional.one_hot(torch.randint(0, 10, (2, 8, 16)), 10).permute(0, 3, 1, 2).to(dtype)
    onehot[0, :, 0, 0] = 0  # an all-zero pixel: index 0, as argmax
    for t in (scores, onehot):
        got = channel_argmax(t, keepdim=keepdim)
        assert got.dtype == torch.long
        assert torch.equal(got, t.argmax(dim=1, keepdim=keepdim))
