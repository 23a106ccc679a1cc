import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Which process listens on a TCP port, where the OS says: Linux's /proc (the listening socket's inode in
 * /proc/net/tcp{,6}, then the process whose /proc/<pid>/fd links to it: only processes this user may read), else
 * `ss -ltnp`, else `lsof`. Undefined when none of them tells (another user's process, another OS without the tools).
 */
export interface PortHolder {
  pid: number;
  command: string;
}

const TCP_LISTEN = '0A';

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
      if (localPort === port && fields[3] === TCP_LISTEN && fields[9]) inodes.add(fields[9]);
    }
  }
  return inodes;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

function fromProc(port: number): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return { pid: Number(pid), command: commandOf(Number(pid)) };
    }
  }
  return undefined;
}

/** `users:(("node",pid=4242,fd=21))` in `ss -ltnp`'s line for the port. */
function fromSs(port: number): PortHolder | undefined {
  try {
    const output = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const match = /users:\(\("([^"]*)",pid=(\d+)/.exec(output);
    return match ? { pid: Number(match[2]), command: match[1]! } : undefined;
  } catch {
    return undefined;
  }
}

/** `lsof -Fpc`: `p<pid>` then `c<command>` lines. */
function fromLsof(port: number): PortHolder | undefined {
  try {
    const output = execFileSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], {
      encoding: 'utf8',
      timeout: 5_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const pid = /^p(\d+)$/m.exec(output)?.[1];
    const command = /^c(.+)$/m.exec(output)?.[1];
    return pid ? { pid: Number(pid), command: command ?? '?' } : undefined;
  } catch {
    return undefined;
  }
}

export function portHolder(port: number): PortHolder | undefined {
  return fromProc(port) ?? fromSs(port) ?? fromLsof(port);
}
