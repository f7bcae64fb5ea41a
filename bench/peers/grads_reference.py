#!/usr/bin/python3
"""The PyTorch peer of Forge's ``grads`` command: same inputs, same output layout.

    /usr/bin/python3 bench/peers/grads_reference.py CKPT.safetensors BATCH.safetensors OUT.safetensors [--dtype f32|f64] [--config FILE.json]

Reads a Forge checkpoint and a batch, computes the loss (see forge_torch.loss) and the gradient of every
parameter with torch.autograd, and writes OUT.safetensors with a scalar ``loss`` (shape []) followed by
each gradient under its parameter's name, in F32 (--dtype f32, the default) or F64, with the model
config in the metadata — the file ``grads`` writes. Compare the two with compare_grads.py.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forge_torch  # noqa: E402  (the sibling module, found through the path above)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="model checkpoint (safetensors, Forge's layout)")
    parser.add_argument("batch", help="batch: tokens [+ loss_mask], or inputs + targets")
    parser.add_argument("out", help="where to write the loss and the gradients")
    parser.add_argument("--dtype", choices=("f32", "f64"), default="f32", help="precision of the computation and of the output")
    parser.add_argument("--config", help="model config JSON, for checkpoints without 'config' metadata")
    args = parser.parse_args(argv)

    dtype = torch.float64 if args.dtype == "f64" else torch.float32
    config = None
    if args.config:
        with open(args.config) as f:
            config = json.load(f)
    model = forge_torch.load_model(args.checkpoint, dtype, config)
    batch, _ = forge_torch.read_safetensors(args.batch)

    loss = forge_torch.loss(model, batch)
    loss.backward()

    result = {"loss": loss.detach().numpy().reshape(())}
    for name, parameter in model.named_parameters():
        gradient = parameter.grad if parameter.grad is not None else torch.zeros_like(parameter)
        result[name] = gradient.numpy()
    forge_torch.write_safetensors(args.out, result, {"config": json.dumps(model.cfg, separators=(",", ":"))})
    print(f"loss {loss.item():.9g}; gradients written to {args.out}")


if __name__ == "__main__":
    main()
