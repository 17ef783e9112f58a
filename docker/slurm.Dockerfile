# syntax=docker/dockerfile:1
# A SLURM node: munge plus slurmctld or slurmd, chosen by the command. Built from the repository root:
#   docker build -f docker/slurm.Dockerfile -t grm-slurm .
#   docker run ... grm-slurm slurmctld          # the controller
#   docker run ... grm-slurm slurmd [NAME]      # a compute node (NAME: default the host name)
# The entrypoint is scripts/slurm-node.sh, built on the functions scripts/slurm-cluster.sh uses
# (scripts/slurm-lib.sh); test/deploy/slurm-node.test.ts runs it on a real host.
# It needs /etc/slurm/slurm.conf (a swarm config) and /run/secrets/munge.key (a swarm secret):
# see deploy/swarm/. Not built in CI (no Docker engine there).
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends slurm-wlm munge tini procps \
    && rm -rf /var/lib/apt/lists/* \
    # the uid GRM's holder jobs arrive with from the grm image (docker/Dockerfile): slurmd
    # runs a job as its submitter, who must exist here
    && groupadd --system --gid 10001 grm \
    && useradd --system --uid 10001 --gid grm --home-dir /var/lib/grm --shell /bin/bash grm \
    && install -d -m 0755 /var/lib/grm-slurm /run/munge
COPY scripts/slurm-lib.sh scripts/slurm-node.sh /opt/grm-slurm/
ENV SLURM_CONF=/etc/slurm/slurm.conf GRM_SLURM_DIR=/var/lib/grm-slurm MUNGE_KEY_FILE=/run/secrets/munge.key
VOLUME /var/lib/grm-slurm
# slurmctld's port, slurmd's port (slurm.conf SlurmctldPort / SlurmdPort)
EXPOSE 6817 6818
# slurmctld and slurmd run as root, as SLURM requires (slurmd starts jobs as their users).
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/grm-slurm/slurm-node.sh"]
CMD ["slurmd"]
