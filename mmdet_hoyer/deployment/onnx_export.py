"""Export an :class:`ExportableDetector` to ONNX with torch's exporter, naming a failing layer."""
import contextlib
from typing import Dict, Iterator, List, Optional

import torch
from torch import Tensor, nn

from .exportable_detector import ExportableDetector, ExportError

#: ONNX opset of the exported graphs (onnxruntime 1.32 runs up to 23)
OPSET = 18


@contextlib.contextmanager
def _layer_trail(model: nn.Module) -> Iterator[List[str]]:
    """Track the stack of modules being executed; on an exception its top is the failing
    layer (the post-hook never pops it)."""
    stack: List[str] = []

    def push(name):
        def hook(module, args):
            if not name:
                stack.clear()  # a new trace attempt starts at the root
            stack.append(name)
        return hook

    def pop(module, args, output):
        if stack:
            stack.pop()

    handles = []
    for name, m in model.named_modules():
        handles.append(m.register_forward_pre_hook(push(name)))
        handles.append(m.register_forward_hook(pop))
    try:
        yield stack
    finally:
        for h in handles:
            h.remove()


def _where(wrapper: ExportableDetector, trail: List[str]) -> str:
    name = trail[-1] if trail else ''
    if not name:
        return 'the graph (after tracing every layer)'
    module = wrapper.get_submodule(name)
    return f'layer {name.removeprefix("detector.")!r} ({type(module).__name__})'


def _first_line(e: Exception) -> str:
    lines = [ln for ln in str(e).strip().splitlines() if ln.strip()]
    return lines[0][:400] if lines else repr(e)


def export_onnx(wrapper: ExportableDetector, inputs: Tensor, path: str, opset: int = OPSET,
                metadata: Optional[Dict[str, str]] = None) -> List[str]:
    """Write the graph of ``wrapper`` traced at ``inputs`` to ``path``; returns the output
    names. The batch dimension is dynamic, height and width are fixed to ``inputs``' (the
    neck's upsample-and-concatenate needs the traced sizes). ``metadata`` goes into the
    model's ``metadata_props``. A layer that fails to trace raises :class:`ExportError`
    naming it."""
    try:
        import onnxscript  # noqa: F401  (torch.onnx's exporter needs it)
    except ImportError as e:
        raise ImportError('ONNX export needs the deploy extra: pip install -e ".[deploy]" '
                          '(onnx, onnxscript, onnxruntime)') from e
    wrapper.eval()
    if not wrapper.levels:
        with torch.no_grad():
            wrapper(inputs)  # output names and head structure
    names = wrapper.output_names
    # torch.export specialises a size-1 dimension: trace a batch of two for a dynamic batch
    example = inputs if inputs.shape[0] > 1 else inputs.expand(2, *inputs.shape[1:])
    dynamic = {'inputs': {0: torch.export.Dim('batch', min=1, max=4096)}}
    with _layer_trail(wrapper) as trail:
        try:
            program = torch.onnx.export(wrapper, (example.contiguous(), ), dynamo=True,
                                        opset_version=opset, input_names=['inputs'],
                                        output_names=names, dynamic_shapes=dynamic,
                                        external_data=False, verbose=False)
        except Exception as e:  # name the layer instead of a deep exporter traceback
            raise ExportError(f'ONNX export failed in {_where(wrapper, trail)}: '
                              f'{type(e).__name__}: {_first_line(e)}') from e
    program.save(path)
    if metadata:
        import onnx
        model = onnx.load(path)
        onnx.helper.set_model_props(model, {k: str(v) for k, v in metadata.items()})
        onnx.save(model, path)
    return names
