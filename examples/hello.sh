#!/bin/bash
#SBATCH --job-name=hello
#SBATCH --ntasks-per-node=1
# A first GRM job: prints where it runs, then counts for a few seconds.
echo "hello from GRM job $GRM_JOB_ID (SLURM_JOB_ID=$SLURM_JOB_ID)"
echo "nodes: $SLURM_JOB_NODELIST ($SLURM_JOB_NUM_NODES), tasks: $SLURM_NTASKS"
echo "project.xml: $GRM_PROJECT_XML"
for i in 1 2 3 4 5; do
  echo "step $i"
  sleep 1
done
echo "this line goes to stderr" >&2
echo "done"
