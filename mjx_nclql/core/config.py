"""Typed, validated configuration of the algorithm.

Every hyperparameter of the reference program is a field here with the reference default.
These dataclasses are the single source of every default: `mjx_nclql.core.cli_config` registers
`to_dict(RunConfig())` with Hydra as the base of `configs/config.yaml`, and the YAML files
under `configs/` hold only the deltas from it (a task's name and episode length, `lql`'s
sampler, the `fast`/`smoke` presets). A new field added here is therefore overridable from the
command line at once, without touching the YAML. Validation runs in `__post_init__`, so a bad
value fails with a message that names the field before anything is traced or compiled.
Hydra/OmegaConf dictionaries become these dataclasses through `from_dict`, which also rejects
unknown keys.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from mjx_nclql.core.errors import MjxNclqlError

VARIANTS = ("nclql", "lql")
STEP_MODES = ("sequential", "summed")
ACTIVATIONS = ("mish", "relu", "elu", "gelu", "silu", "tanh")


class ConfigError(MjxNclqlError, ValueError):
    """A configuration value is missing, unknown, of the wrong type or out of range."""


def _check_number(name: str, value: Any, *, integer: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
    if integer and not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}")


def _positive(name: str, value: Any, *, integer: bool = False) -> None:
    _check_number(name, value, integer=integer)
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value!r}")


def _unit_interval(name: str, value: Any, *, closed_right: bool) -> None:
    _check_number(name, value)
    ok = 0 <= value <= 1 if closed_right else 0 <= value < 1
    if not ok:
        bound = "[0, 1]" if closed_right else "[0, 1)"
        raise ConfigError(f"{name} must lie in {bound}, got {value!r}")


def _bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {list(choices)}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """Annealed Langevin sampler of pi(a|s) ~ exp(w Q(s, a)) on [-1, 1]^d."""

    w: float = 500.0  # inverse temperature
    num_levels: int = 10  # L noise levels (LQL: must be 1)
    steps_per_level: int = 2  # T Langevin steps at each level
    sigma_max: float = 0.1
    sigma_min: float = 0.001
    eps: float = 1e-4  # step size at the sharpest level (LQL: its one step size; configs/algo/lql.yaml)
    grad_norm: bool = True  # normalise the action-gradient to unit length
    clip: bool = True  # clip every iterate to the action box
    num_particles: int = 1  # N chains per state, best by min_i Q_i at the sharpest level
    unroll: int = 20  # Langevin steps per loop iteration: speed only, the same steps

    def __post_init__(self) -> None:
        _positive("sampler.w", self.w)
        _positive("sampler.num_levels", self.num_levels, integer=True)
        _positive("sampler.steps_per_level", self.steps_per_level, integer=True)
        _positive("sampler.sigma_max", self.sigma_max)
        _positive("sampler.sigma_min", self.sigma_min)
        if self.num_levels > 1 and self.sigma_min >= self.sigma_max:
            raise ConfigError(
                f"sampler.sigma_min ({self.sigma_min}) must be < sampler.sigma_max "
                f"({self.sigma_max}) when num_levels > 1"
            )
        _positive("sampler.eps", self.eps)
        _bool("sampler.grad_norm", self.grad_norm)
        _bool("sampler.clip", self.clip)
        _positive("sampler.num_particles", self.num_particles, integer=True)
        _positive("sampler.unroll", self.unroll, integer=True)


@dataclasses.dataclass(frozen=True)
class CriticConfig:
    """Twin Q networks; `level_*` sizes only matter for the noise-conditioned variant."""

    hidden_sizes: tuple[int, ...] = (256, 256, 256)
    activation: str = "mish"
    level_embed_dim: int = 16  # sinusoidal encoding size and embedding output size
    level_hidden_dim: int = 32
    num_critics: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.hidden_sizes, list):
            object.__setattr__(self, "hidden_sizes", tuple(self.hidden_sizes))
        if not isinstance(self.hidden_sizes, tuple) or not self.hidden_sizes:
            raise ConfigError(f"critic.hidden_sizes must be a non-empty list, got {self.hidden_sizes!r}")
        for i, h in enumerate(self.hidden_sizes):
            _positive(f"critic.hidden_sizes[{i}]", h, integer=True)
        _choice("critic.activation", self.activation, ACTIVATIONS)
        _positive("critic.level_embed_dim", self.level_embed_dim, integer=True)
        if self.level_embed_dim % 2:
            raise ConfigError(
                f"critic.level_embed_dim must be even (sin and cos halves), got {self.level_embed_dim}"
            )
        _positive("critic.level_hidden_dim", self.level_hidden_dim, integer=True)
        _positive("critic.num_critics", self.num_critics, integer=True)


@dataclasses.dataclass(frozen=True)
class AlgoConfig:
    """NC-LQL (`variant='nclql'`) or its plain single-level variant LQL (`variant='lql'`)."""

    variant: Literal["nclql", "lql"] = "nclql"
    sampler: SamplerConfig = dataclasses.field(default_factory=SamplerConfig)
    critic: CriticConfig = dataclasses.field(default_factory=CriticConfig)
    lr: float = 1e-4
    gamma: float = 0.99
    tau: float = 0.005
    reward_scale: float = 0.2
    # "sequential": TD step then noise-conditioning step, two Adam steps sharing one state
    # (the reference program); "summed": one Adam step on the sum of both losses.
    step_mode: Literal["sequential", "summed"] = "sequential"
    max_grad_norm: float = 0.0  # 0 = no gradient clipping (the reference program has none)

    def __post_init__(self) -> None:
        _choice("algo.variant", self.variant, VARIANTS)
        if not isinstance(self.sampler, SamplerConfig):
            raise ConfigError(f"algo.sampler must be a SamplerConfig, got {self.sampler!r}")
        if not isinstance(self.critic, CriticConfig):
            raise ConfigError(f"algo.critic must be a CriticConfig, got {self.critic!r}")
        if self.variant == "lql" and self.sampler.num_levels != 1:
            raise ConfigError(
                "algo.sampler.num_levels must be 1 for variant 'lql' (plain Langevin on Q); "
                f"got {self.sampler.num_levels}"
            )
        if self.variant == "nclql" and self.sampler.num_levels < 2:
            raise ConfigError(
                "algo.sampler.num_levels must be >= 2 for variant 'nclql' (use variant 'lql' "
                f"for a single level); got {self.sampler.num_levels}"
            )
        _positive("algo.lr", self.lr)
        _unit_interval("algo.gamma", self.gamma, closed_right=False)
        _unit_interval("algo.tau", self.tau, closed_right=True)
        _check_number("algo.reward_scale", self.reward_scale)
        _choice("algo.step_mode", self.step_mode, STEP_MODES)
        _check_number("algo.max_grad_norm", self.max_grad_norm)
        if self.max_grad_norm < 0:
            raise ConfigError(f"algo.max_grad_norm must be >= 0, got {self.max_grad_norm}")

    @property
    def noise_conditioned(self) -> bool:
        return self.variant == "nclql"


T = TypeVar("T")


def from_dict(cls: type[T], values: Mapping[str, Any] | None, prefix: str = "") -> T:
    """Build dataclass `cls` from a (possibly nested) mapping, rejecting unknown keys."""
    values = dict(values or {})
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        where = prefix.rstrip(".") or cls.__name__
        raise ConfigError(f"unknown key(s) {unknown} in {where}; valid keys: {sorted(fields)}")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{prefix}{name} must be a mapping, got {value!r}")
            value = from_dict(hint, value, prefix=f"{prefix}{name}.")
        elif get_origin(hint) is tuple or hint is tuple:
            if not isinstance(value, list | tuple):
                raise ConfigError(f"{prefix}{name} must be a list, got {value!r}")
            value = tuple(value)
        elif get_origin(hint) is Literal and value not in get_args(hint):
            raise ConfigError(f"{prefix}{name} must be one of {list(get_args(hint))}, got {value!r}")
        elif hint is dict or get_origin(hint) is dict:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{prefix}{name} must be a mapping, got {value!r}")
            value = dict(value)
        elif hint is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        kwargs[name] = value
    return cls(**kwargs)


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict (tuples become lists) suitable for YAML/JSON."""

    def convert(v: Any) -> Any:
        if isinstance(v, tuple):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        return v

    return convert(dataclasses.asdict(cfg))


@dataclasses.dataclass(frozen=True)
class EnvConfig:
    """Which task and its construction options (passed to `envs.make`)."""

    name: str = "halfcheetah"
    # The MJX solver settings (`envs.model.PhysicsOptions`): "faithful" is Gymnasium's physics,
    # bit-identical, at caps no measured state reaches; "gymnasium" the XML's own caps; "fast"
    # one Newton iteration, for training only; "warp" the faithful settings on MuJoCo Warp's
    # float32 step, env-only so far (envs/README.md measures each).
    physics: Literal["faithful", "gymnasium", "fast", "warp"] = "faithful"
    options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"env.name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.options, Mapping):
            raise ConfigError(f"env.options must be a mapping, got {self.options!r}")
        object.__setattr__(self, "options", dict(self.options))


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The data-collection / update protocol (see the `paper` and `fast` presets)."""

    num_envs: int = 5
    updates_per_step: int = 1  # gradient updates per vector step (of num_envs transitions)
    # Budget in environment transitions (all envs together, per seed) AFTER warm-up, as the
    # reference counts it: 5e6 transitions at 0.2 updates each = exactly 1e6 updates.
    total_steps: int = 5_000_000
    warmup_steps: int = 30_000  # uniform-random transitions before the first update, extra

    buffer_size: int = 1_000_000
    batch_size: int = 256  # transitions sampled from the replay buffer per update
    eval_every: int = 125_000  # post-warm-up transitions
    eval_episodes: int = 20
    # Langevin chains per state at evaluation (best by min_i Q_i), as the reference evaluates
    # with the sampler it trains with: null = algo.sampler.num_particles; a number overrides.
    eval_particles: int | None = None
    chunk_iters: int = 1000  # vector steps per jitted chunk (host sync between chunks)
    checkpoint_every: int = 125_000  # post-warm-up transitions; 0 = at the end / on a signal
    keep_checkpoints: int = 3

    def __post_init__(self) -> None:
        for name in (
            "num_envs",
            "updates_per_step",
            "total_steps",
            "buffer_size",
            "batch_size",
            "eval_every",
            "eval_episodes",
            "chunk_iters",
            "keep_checkpoints",
        ):
            _positive(f"train.{name}", getattr(self, name), integer=True)
        if self.eval_particles is not None:
            _positive("train.eval_particles", self.eval_particles, integer=True)
        for name in ("warmup_steps", "checkpoint_every"):
            _check_number(f"train.{name}", getattr(self, name), integer=True)
            if getattr(self, name) < 0:
                raise ConfigError(f"train.{name} must be >= 0, got {getattr(self, name)}")
        if self.buffer_size < self.num_envs:
            raise ConfigError(
                f"train.buffer_size ({self.buffer_size}) must be >= train.num_envs ({self.num_envs})"
            )
        if self.total_steps < self.num_envs:
            raise ConfigError(
                f"train.total_steps ({self.total_steps}) must be >= train.num_envs ({self.num_envs})"
            )
        if self.batch_size > self.buffer_size:
            raise ConfigError(
                f"train.batch_size ({self.batch_size}) must be <= train.buffer_size ({self.buffer_size})"
            )


@dataclasses.dataclass(frozen=True)
class LogConfig:
    wandb_mode: Literal["offline", "online", "disabled"] = "offline"
    wandb_project: str = "mjx_nclql"
    wandb_entity: str | None = None
    progress: bool = True  # live progress bar
    plot: bool = True  # learning-curve PNG at each evaluation
    render: bool = False  # a rollout page (Brax's viewer) of seed 0 at each evaluation

    def __post_init__(self) -> None:
        _choice("log.wandb_mode", self.wandb_mode, ("offline", "online", "disabled"))
        _bool("log.progress", self.progress)
        _bool("log.plot", self.plot)
        _bool("log.render", self.render)


@dataclasses.dataclass(frozen=True)
class DistConfig:
    """Multi-host runs: one process per host, `jax.distributed.initialize` before any JAX work.

    With `enabled` and the three fields left null, JAX detects them (Slurm, Open MPI, Cloud
    TPU, Kubernetes); `coordinator_address` also falls back to $JAX_COORDINATOR_ADDRESS.
    """

    enabled: bool = False  # start the same command on every host
    coordinator_address: str | None = None  # host:port of process 0, reachable by all
    num_processes: int | None = None
    process_id: int | None = None

    def __post_init__(self) -> None:
        _bool("distributed.enabled", self.enabled)
        if self.coordinator_address is not None and (
            not isinstance(self.coordinator_address, str) or ":" not in self.coordinator_address
        ):
            raise ConfigError(
                f"distributed.coordinator_address must be 'host:port', got {self.coordinator_address!r}"
            )
        if self.num_processes is not None:
            _positive("distributed.num_processes", self.num_processes, integer=True)
        if self.process_id is not None:
            _check_number("distributed.process_id", self.process_id, integer=True)
            if self.process_id < 0:
                raise ConfigError(f"distributed.process_id must be >= 0, got {self.process_id}")
        if (self.num_processes is None) != (self.process_id is None):
            raise ConfigError(
                "distributed.num_processes and distributed.process_id are given together (or "
                "both left null for auto-detection)"
            )
        if self.num_processes is not None and self.process_id >= self.num_processes:
            raise ConfigError(
                f"distributed.process_id ({self.process_id}) must be < distributed.num_processes "
                f"({self.num_processes})"
            )


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything one `python -m mjx_nclql.train` invocation needs."""

    env: EnvConfig = dataclasses.field(default_factory=EnvConfig)
    algo: AlgoConfig = dataclasses.field(default_factory=AlgoConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    log: LogConfig = dataclasses.field(default_factory=LogConfig)
    distributed: DistConfig = dataclasses.field(default_factory=DistConfig)
    seed: int = 0
    num_seeds: int = 1  # independent seeds trained in one program (vmapped, sharded)
    run_dir: str | None = None  # default: runs/<env>-<variant>-s<seed>-<timestamp>
    resume: str | None = None  # a run directory to continue from its latest good checkpoint
    # Accelerators to shard the seed axis over (0 = all visible that split num_seeds evenly).
    devices: int = 0
    # Persistent XLA cache: compiled programs kept across starts; null = off.
    compile_cache: str | None = "~/.cache/mjx_nclql/xla"

    def __post_init__(self) -> None:
        _check_number("seed", self.seed, integer=True)
        if self.compile_cache is not None and not isinstance(self.compile_cache, str):
            raise ConfigError(f"compile_cache must be a directory or null, got {self.compile_cache!r}")
        _check_number("devices", self.devices, integer=True)
        if self.devices < 0:
            raise ConfigError(f"devices must be >= 0, got {self.devices}")
        _positive("num_seeds", self.num_seeds, integer=True)
