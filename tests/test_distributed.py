"""The seed axis sharded over two CPU devices, and a two-process (gloo) multi-host run: both
equal the one-device run."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from train_fixtures import ROOT, assert_saved_params_match, read_records

from mjx_nclql.runtime.checkpoint import Checkpointer


@pytest.mark.slow
def test_sharding_over_two_cpu_devices_matches_one_device(reference, tmp_path) -> None:
    script = textwrap.dedent(f"""
        import dataclasses, jax, numpy as np, sys
        sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
        from train_fixtures import probe_config
        from mjx_nclql.runtime.loop import run
        assert len(jax.devices()) == 2
        res = run(probe_config({str(tmp_path / "sharded")!r}, devices=2))
        leaf = res.state.agent.params["critics"]["out"]["kernel"]
        assert len(leaf.sharding.device_set) == 2, leaf.sharding
        leaves = [np.asarray(x) for x in jax.tree.leaves(res.state.agent.params)]
        np.savez({str(tmp_path / "p.npz")!r}, *leaves)
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_saved_params_match(tmp_path / "p.npz", reference.state.agent.params)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_host_run_matches_one_process(reference, tmp_path) -> None:
    """A multi-host run: two processes (one CPU device each, gloo) started with the same
    config, `jax.distributed` initialised by the run. Each process trains its share of the
    seed axis; only process 0 writes outputs. SIGTERM to process 1 alone stops both after the
    same chunk; both resume; the result equals the uninterrupted single-process run."""
    run_dir = str(tmp_path / "multihost")
    script = textwrap.dedent(f"""
        import dataclasses, os, signal, sys, jax, numpy as np
        sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
        from train_fixtures import probe_config
        from mjx_nclql.core.config import DistConfig
        from mjx_nclql.runtime.distributed import to_host
        from mjx_nclql.runtime.loop import run
        pid = int(sys.argv[1])
        dist = DistConfig(enabled=True, coordinator_address="localhost:{_free_port()}",
                          num_processes=2, process_id=pid)
        cfg = probe_config({run_dir!r}, distributed=dist)

        seen = []

        def signal_host_1(record):  # every process sees every record
            if record["kind"] == "train":
                seen.append(record["env_steps"])
                if pid == 1 and record["chunk"] == 3:
                    os.kill(os.getpid(), signal.SIGTERM)

        first = run(cfg, progress_fn=signal_host_1)
        print("first run", first.status, seen[-1])
        res = run(dataclasses.replace(cfg, resume={run_dir!r}))
        assert (jax.process_count(), len(jax.devices()), len(jax.local_devices())) == (2, 2, 1)
        leaf = res.state.agent.params["critics"]["out"]["kernel"]
        assert not leaf.is_fully_addressable  # each process holds one seed
        leaves = to_host(jax.tree.leaves(res.state.agent.params))
        if pid == 0:
            np.savez({str(tmp_path / "p.npz")!r}, *leaves)
        print("records", len(res.records))
    """)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_PLATFORMS"] = "cpu"
    logs = [tmp_path / f"p{i}.log" for i in range(2)]
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open(path, "w")) for path in logs]
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(i)], env=env, stdout=files[i], stderr=subprocess.STDOUT
            )
            for i in range(2)
        ]
        try:
            codes = [p.wait(timeout=600) for p in procs]
        finally:
            for p in procs:
                p.kill()
    out = [path.read_text() for path in logs]
    assert codes == [0, 0], "\n\n".join(o[-3000:] for o in out)
    assert all("first run interrupted 120" in o for o in out)  # both stopped after chunk 3
    assert "records 11" in out[0] and "records 0" in out[1]  # 8 train + 3 eval, written once
    assert "mjx_nclql |" in out[0] and "mjx_nclql |" not in out[1]
    assert len(read_records(run_dir)) == len(read_records(reference.run_dir))
    assert Checkpointer(os.path.join(run_dir, "checkpoints")).steps() == [4, 6, 8]
    assert_saved_params_match(tmp_path / "p.npz", reference.state.agent.params)
