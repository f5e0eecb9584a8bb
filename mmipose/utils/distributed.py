"""End-of-run teardown for the process group the tools' distributed runs create."""
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
