#!/usr/bin/env python3
"""Write bench/fixtures/matmul.onnx: a chain of fp32 MatMuls used to measure this machine's
fp32 peak through onnxruntime (the "FLOP floor" anchor of `npm run bench`).

    Y = (((A @ B) @ B) @ B) ...   `repeats` MatMuls, A: [M, K], B: [K, K]

Both inputs are fed at run time (dynamic dims, no initializers), so the file is a few hundred
bytes. One run costs repeats * 2*M*K*K FLOPs; the bench reads `repeats` from the sidecar
matmul.json written beside the model. Chaining amortises the per-run overhead of a session
call over several large GEMMs.

Run with the Debian interpreter, which has onnx 1.12:
    /usr/bin/python3 bench/make_matmul.py [--repeats 4] [--out bench/fixtures/matmul.onnx]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

OPSET = 13


def build(repeats: int) -> onnx.ModelProto:
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    a = helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", "K"])
    b = helper.make_tensor_value_info("B", TensorProto.FLOAT, ["K", "K"])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", "K"])
    nodes = []
    prev = "A"
    for i in range(repeats):
        out = "Y" if i == repeats - 1 else f"t{i}"
        nodes.append(helper.make_node("MatMul", [prev, "B"], [out], name=f"matmul_{i}"))
        prev = out
    graph = helper.make_graph(nodes, "matmul_chain", [a, b], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="lesion-mtl bench/make_matmul.py")
    model.doc_string = f"{repeats} chained fp32 MatMuls [M,K]x[K,K]; FLOPs per run = {repeats}*2*M*K*K"
    onnx.checker.check_model(model)
    return model


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--out", type=Path, default=here / "fixtures" / "matmul.onnx")
    args = ap.parse_args()
    model = build(args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.out))
    sidecar = args.out.with_suffix(".json")
    sidecar.write_text(json.dumps({
        "file": args.out.name,
        "op": "MatMul",
        "dtype": "float32",
        "repeats": args.repeats,
        "inputs": {"A": "[M, K]", "B": "[K, K]"},
        "flopsPerRun": "repeats * 2 * M * K * K",
        "opset": OPSET,
        "generator": "bench/make_matmul.py",
    }, indent=2) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) and {sidecar}")


if __name__ == "__main__":
    main()
