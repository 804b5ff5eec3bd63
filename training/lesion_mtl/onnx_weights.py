"""Rebuild the PyTorch members of an exported lesion-mtl ONNX file from its initializers.

The export folds every batch norm into the convolution before it (eval mode, constant folding),
so a rebuilt member carries the folded weights in its convolutions and identity batch norms
(weight 1, running mean 0, running variance 1 - eps, bias = the folded bias): exact in eval mode,
the same convention as the ImageNet .npz. Convolutions are matched to the graph's Conv nodes in
execution order (the export traces member 0, then member 1, ...), shapes checked one by one; the
LayerNorm/Linear heads and the mask head keep their PyTorch names in the graph.

Used to warm-start a student from a shipped member (config "init_from") and as the distillation
teacher (config "teacher"): 1.2.0's training checkpoints are not kept, its ONNX file is."""
from __future__ import annotations

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn


def _conv_bn_pairs(model: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d | None]]:
    """Each Conv2d in execution order with the batch norm that directly follows it (or None)."""
    order: list[nn.Conv2d] = []
    hooks = [m.register_forward_hook(lambda mod, _i, _o: order.append(mod))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    was_training = model.training
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 64, 64))
    model.train(was_training)
    for hk in hooks:
        hk.remove()
    mods = list(model.modules())
    follows = {}
    for a, b in zip(mods, mods[1:]):
        if isinstance(a, nn.Conv2d):
            follows[id(a)] = b if isinstance(b, nn.BatchNorm2d) else None
    return [(c, follows.get(id(c))) for c in order]


def _initializer_values(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Name -> array for initializers, Constant nodes and Identity aliases of them."""
    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    values[node.output[0]] = numpy_helper.to_array(attr.t)
        elif node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values


def member_count(path: str) -> int:
    graph = onnx.load(path).graph
    names = {t.name for t in graph.initializer}
    n = 0
    while any(name.startswith(f"net.members.{n}.") for name in names):
        n += 1
    return max(n, 1)


def load_members(path: str, build) -> list[nn.Module]:
    """All members of the ONNX file as eval-mode PyTorch modules; build() makes one empty member
    of the same architecture (decoder channels, width, zoom/colour options must match)."""
    graph = onnx.load(path).graph
    values = _initializer_values(graph)
    convs = [n for n in graph.node if n.op_type == "Conv"]
    n_members = member_count(path)
    members = [build() for _ in range(n_members)]
    per_member = [_conv_bn_pairs(m) for m in members]
    want = sum(len(p) for p in per_member)
    if len(convs) != want:
        raise ValueError(f"{path}: {len(convs)} Conv nodes, the architecture has {want} for {n_members} member(s)")
    prefix_single = not any(t.name.startswith("net.members.") for t in graph.initializer)
    it = iter(convs)
    for i, (member, pairs) in enumerate(zip(members, per_member)):
        for conv, bn in pairs:
            node = next(it)
            w = values[node.input[1]]
            b = values[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros(w.shape[0], np.float32)
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise ValueError(f"member {i}: Conv {node.name} has {w.shape}, module expects {tuple(conv.weight.shape)}")
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
                if conv.bias is not None:
                    conv.bias.copy_(torch.from_numpy(b))
                elif bn is not None:
                    bn.weight.fill_(1.0)
                    bn.bias.copy_(torch.from_numpy(b))
                    bn.running_mean.zero_()
                    bn.running_var.fill_(1.0 - bn.eps)
                elif np.any(b != 0):
                    raise ValueError(f"member {i}: Conv {node.name} has a bias but its module has neither bias nor BN")
        prefix = "net." if prefix_single else f"net.members.{i}."
        state = member.state_dict()
        for key in state:
            if key.startswith("cls_heads.") or key.startswith("mask_head."):
                src = prefix + key
                if src not in values:
                    raise ValueError(f"{path}: initializer {src} not found")
                arr = values[src]
                if tuple(arr.shape) != tuple(state[key].shape):
                    raise ValueError(f"{src}: {arr.shape} vs {tuple(state[key].shape)}")
                state[key] = torch.from_numpy(np.ascontiguousarray(arr))
        member.load_state_dict(state)
        member.eval()
    return members
