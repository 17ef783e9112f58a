#!/bin/bash
#SBATCH --job-name=ddp-digits
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
# Submit from the project root:  grm sbatch -D examples/ddp-digits examples/ddp-digits/ddp.sh
# One training rank per allocated node (train.py), in GRM's allocation; --label prefixes each
# line with its rank ("2: ..."), which GRM stores with the line (grm logs --rank 2).
set -euo pipefail
first=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
MASTER_ADDR=$(scontrol show node "$first" | grep -o 'NodeAddr=[^ ]*' | cut -d= -f2)
export MASTER_ADDR MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))
srun --jobid="$SLURM_JOB_ID" --overlap -N "$SLURM_JOB_NUM_NODES" -n "$SLURM_JOB_NUM_NODES" --label /usr/bin/python3 train.py
