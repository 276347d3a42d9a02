"""The method, NC-LQL and LQL, read top to bottom: `noise` (the levels), `critic` (the
noise-conditioned twin Q), `sampler` (annealed Langevin dynamics on it), `losses` (TD and
noise conditioning), `batch` (the transitions an update reads) and `agent` (acting and the
update that composes them). Pure JAX functions; no environment, no files."""
