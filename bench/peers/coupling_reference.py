"""Independent float64 reference of the coupling command's Jacobians, singular values and coupling matrices.

    /usr/bin/python3 bench/peers/coupling_reference.py CKPT TOKENS OUT.json --k 3,5 [--positions 1,4]

Written from the definitions (docs/experiments/coupling.md), not from Forge's C#: the residual stream comes
from forge_torch's model, each block's residual Jacobian at token t is taken with
torch.autograd.functional.jacobian of x_t -> block(X with x_t replaced)_t - x_t (every other position held at
its forward value), SVDs with torch.linalg.svd, and

    m_K(J1, J2) = || |U2[:, :K]^T J1 V2[:, :K]| - diag(s1[:K]) ||_F / ||s1[:K]||_2,    C_K[i, j] = m_K(J^i, J^j).

Writes {"coupling": {K: L x L averaged over prompts at the last position}, "singular_values": per layer of the
first prompt, "token_coupling": {K: P x P at --token-layer, averaged over prompts}} as JSON.
"""
import argparse
import json

import torch

from forge_torch import load_model, read_safetensors


def residuals(model, tokens):
    """x^0 ... x^L of one prompt, each [1, t, d] (the final LayerNorm is not part of any block)."""
    x = model.embed.W_E[tokens] + model.pos_embed.W_pos[: tokens.shape[1]]
    stream = [x]
    for block in model.blocks:
        x = block(x)
        stream.append(x)
    return stream


def residual_jacobian(block, x, t):
    """d f_t / d x_t for f = block - identity, other positions fixed: [d, d] with J[i, j] = d f_i / d x_j."""
    def f(xt):
        replaced = torch.cat([x[:, :t], xt.view(1, 1, -1), x[:, t + 1:]], dim=1)
        return block(replaced)[0, t] - xt
    return torch.autograd.functional.jacobian(f, x[0, t].clone())


def m_k(svd1, svd2, j1, k):
    u2, _, v2 = svd2
    s1 = svd1[1]
    projected = (u2[:, :k].T @ j1 @ v2[:, :k]).abs()
    return (torch.linalg.norm(projected - torch.diag(s1[:k])) / torch.linalg.norm(s1[:k])).item()


def svd(j):
    u, s, vh = torch.linalg.svd(j)
    return u, s, vh.T


def coupling_matrix(jacobians, k):
    svds = [svd(j) for j in jacobians]
    n = len(jacobians)
    return [[0.0 if a == b else m_k(svds[a], svds[b], jacobians[a], k) for b in range(n)] for a in range(n)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("tokens")
    parser.add_argument("out")
    parser.add_argument("--k", required=True)
    parser.add_argument("--positions", required=True, help="comma list, ascending; the last is the layer x layer position")
    parser.add_argument("--token-layer", type=int, required=True)
    args = parser.parse_args()
    ks = [int(k) for k in args.k.split(",")]
    positions = [int(p) for p in args.positions.split(",")]
    model = load_model(args.checkpoint, torch.float64)
    tokens = torch.from_numpy(read_safetensors(args.tokens)[0]["tokens"]).long()
    coupling = {k: torch.zeros(len(model.blocks), len(model.blocks), dtype=torch.float64) for k in ks}
    token_coupling = {k: torch.zeros(len(positions), len(positions), dtype=torch.float64) for k in ks}
    singular = None
    for n in range(tokens.shape[0]):
        stream = residuals(model, tokens[n:n + 1])
        at_last = [residual_jacobian(block, stream[l].detach(), positions[-1]) for l, block in enumerate(model.blocks)]
        at_layer = [residual_jacobian(model.blocks[args.token_layer], stream[args.token_layer].detach(), p) for p in positions]
        for k in ks:
            coupling[k] += torch.tensor(coupling_matrix(at_last, k), dtype=torch.float64)
            token_coupling[k] += torch.tensor(coupling_matrix(at_layer, k), dtype=torch.float64)
        if singular is None:
            singular = [torch.linalg.svdvals(j).tolist() for j in at_last]
    prompts = tokens.shape[0]
    result = {
        "coupling": {str(k): (coupling[k] / prompts).tolist() for k in ks},
        "token_coupling": {str(k): (token_coupling[k] / prompts).tolist() for k in ks},
        "singular_values": singular,
    }
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
