"""The matrix-product FLOP count: exact on programs whose count is known by hand."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mjx_nclql.tools.flops import matmul_flops
from mjx_nclql.tools.measure import matmul_peak_gflops

B, N_IN, H, N_OUT = 8, 5, 16, 3  # rows, inputs, hidden units, outputs


def mlp(params, x):
    w1, w2 = params
    return jnp.tanh(x @ w1) @ w2


PARAMS = (jnp.ones((N_IN, H)), jnp.ones((H, N_OUT)))
X = jnp.ones((B, N_IN))
FORWARD = 2 * B * (N_IN * H + H * N_OUT)


def test_one_product_and_a_forward_pass() -> None:
    assert matmul_flops(jnp.matmul, jnp.ones((4, 6)), jnp.ones((6, 7))).flops == 2 * 4 * 6 * 7
    count = matmul_flops(mlp, PARAMS, X)
    assert count.flops == FORWARD and count.exact


def test_gradients_cost_what_backpropagation_does() -> None:
    """Parameter gradient: forward, then per layer the weight gradient and (but for the first
    layer) the input gradient, each the size of that layer's forward product."""
    loss = lambda p, x: mlp(p, x).sum()  # noqa: E731
    assert matmul_flops(jax.grad(loss), PARAMS, X).flops == FORWARD + FORWARD + 2 * B * H * N_OUT
    # Input gradient only (what a Langevin step takes): forward plus one product per layer.
    assert matmul_flops(jax.grad(loss, argnums=1), PARAMS, X).flops == 2 * FORWARD


def test_scans_multiply_vmaps_batch_and_cond_takes_the_dearest_branch() -> None:
    def chain(x):
        step = lambda c, _: (mlp(PARAMS, c @ jnp.ones((N_OUT, N_IN))), None)  # noqa: E731
        return jax.lax.scan(step, mlp(PARAMS, x), None, length=7)[0]

    per_step = FORWARD + 2 * B * N_OUT * N_IN
    assert matmul_flops(chain, X).flops == FORWARD + 7 * per_step
    outer = lambda c, _: (chain(c) @ jnp.ones((N_OUT, N_IN)), None)  # noqa: E731
    nested = lambda x: jax.lax.scan(outer, x, None, length=3)[0]  # noqa: E731
    assert matmul_flops(nested, X).flops == 3 * (FORWARD + 7 * per_step + 2 * B * N_OUT * N_IN)
    assert matmul_flops(jax.vmap(mlp, in_axes=(None, 0)), PARAMS, jnp.ones((4, B, N_IN))).flops == 4 * FORWARD
    pick = lambda p, x: jax.lax.cond(x.sum() > 0, lambda: mlp(p, x), lambda: x[:, :N_OUT])  # noqa: E731
    assert matmul_flops(pick, PARAMS, X).flops == FORWARD


def test_while_loops_make_the_count_a_lower_bound() -> None:
    def until_small(x):
        return jax.lax.while_loop(lambda c: c.sum() > 1.0, lambda c: 0.5 * (c @ jnp.eye(N_IN)), x)

    count = matmul_flops(until_small, X)
    assert count.flops == 2 * B * N_IN * N_IN and count.while_loops == 1 and not count.exact


def test_matmul_peak_is_a_positive_rate() -> None:
    assert matmul_peak_gflops(size=256, repeats=2) > 0
