/** `rain start --help`. */
import { DEFAULT_HTTP_PORT, DEFAULT_SERVER_PORT } from "./address.ts";
import { DEFAULT_SRUN } from "./remote.ts";
import { DEFAULT_START_TIMEOUT } from "./start_args.ts";

export const START_USAGE =
  `Usage: rain start (--simple | --local-governors=LIST | --governor-host-file=FILE |
                   --autoconf=pbs|slurm) [-S] [--listen ADDR] [--http-listen ADDR]
                  [--logdir DIR] [--workdir DIR] [--governor-config FILE]
                  [--governor-resources SPEC]
                  [--runprefix CMD] [--remote-init CMDS] [--secret-file FILE | --insecure]
                  [--server-lost-timeout SECONDS] [--log-retention DAYS|SIZE]

Starts a Rain server and governors in the background, waits until all are ready, prints where
Rain runs and exits. Stop them with 'rain stop'. ADDR is PORT, IP or IP:PORT. Options take
--option=VALUE or --option VALUE.

What to start (exactly one):
  --simple                  one local governor with all cpus of this machine
  --local-governors=LIST    one local governor per entry with that many cpus,
                            e.g. --local-governors=[4,4,2] (brackets optional)
  --governor-host-file=FILE one governor per host listed in FILE (one a line, blank lines and
                            # comments ignored), started over ssh; rain must be at the same
                            path on every host
  --autoconf=pbs            one governor per node of this PBS job ($PBS_NODEFILE), over ssh
  --autoconf=slurm          one governor per node of this Slurm job ($SLURM_JOB_NODELIST),
                            started with srun when it is on PATH, else over ssh

Options:
  -S                        reserve a cpu for the server: --simple's governor and the remote
                            governor on the server's machine get --cpus=-1
                            (governors of --local-governors keep their given cpus)
  --listen ADDR             server address for clients and governors (default: 0.0.0.0:${DEFAULT_SERVER_PORT})
  --http-listen ADDR        server dashboard address (default: 0.0.0.0:${DEFAULT_HTTP_PORT})
  --logdir DIR              logs: the server uses DIR/server, governor i DIR/governor-<i>
                            (i from 0); each has <name>.log with the process's output
                            (default: /tmp/rain-logs/rain-<hostname>-<pid>)
  --workdir DIR             governor i works in DIR/governor-<i>
                            (default: each governor's own default)
  --governor-config FILE    passed to every governor as --config (default: none)
  --governor-resources SPEC resources of every governor, entries separated by ';':
                            memory=SIZE|detect, gpus=detect|none|N|ID,ID..., and custom
                            NAME=AMOUNT, e.g. "memory=32GiB;gpus=0,1;licence=2"; passed as
                            --memory, --gpus, --resources (default: each governor detects)
  --runprefix CMD           prefix of every started process, split like a shell,
                            e.g. --runprefix="valgrind --tool=callgrind" (default: none)
  --remote-init CMDS        /bin/sh commands run on each remote host before its governor,
                            e.g. --remote-init="export PATH=\$PATH:/opt/bin" (default: none)
  --secret-file FILE        the cluster secret (a private file) instead of a new random one
  --insecure                no cluster secret: anyone who reaches the server can run programs
                            (see docs/security.md)
  --server-lost-timeout SECONDS
                            passed to every governor: how long it keeps its tasks and data
                            and tries to reach a lost server again (default: 60)
  --log-retention DAYS|SIZE passed to the server: what its events.db keeps (see
                            'rain server --help'; default: everything)
  -h, --help                show this help

The cluster secret goes to the server and local governors in their environment and to remote
governors on their ssh/srun standard input, never on a command line. The server publishes it for
this user in ~/.rain/secrets, where clients of this user on this machine find it.

Remote governors exit when their ssh/srun connection or their link to the server goes away;
'rain stop' stops them all. With a wildcard --listen, they reach the server by this machine's
host name.

Environment:
  RAIN_START_TIMEOUT=S      seconds to wait for every process to be ready (default: ${DEFAULT_START_TIMEOUT})
  RAIN_SSH=CMD              ssh command for remote hosts, split like a shell, e.g.
                            "ssh -p 2222 -i ~/.ssh/rain_key" (default: ssh)
  RAIN_SRUN=CMD             srun command for --autoconf=slurm
                            (default: ${DEFAULT_SRUN.join(" ")})
`;
