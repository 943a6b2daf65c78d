"""Code every Clip Live service shares: settings, contracts, the bus, the runtime, logs."""

import os

# Spinning BLAS threads doubled the pipeline's CPU on 2 cores (measured): one thread each.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
