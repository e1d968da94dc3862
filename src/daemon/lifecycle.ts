/**
 * Becoming the one daemon: the lock, the stale-socket check, binding a 0600 socket in a 0700 directory,
 * or taking the socket systemd passed in; and cleaning up only what is ours on the way out.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { UnsafeStateError } from '../shared/errors.js';
import { ensurePrivateDir, type Paths } from '../shared/paths.js';
import { log } from './log.js';

export type Listening = { kind: 'listening'; release(): void } | { kind: 'already-running' };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock whose pid is dead, or (on Linux) no longer a node process, was left by a crash. */
function lockIsStale(file: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (!pidAlive(pid)) return true;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return !cmdline.includes('node') && !cmdline.includes('cog-token');
  } catch {
    return false;
  }
}

function takeLock(file: string): boolean {
  for (let i = 0; i < 5; i++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!lockIsStale(file)) return false;
    log.info(`removing stale lock ${file}`);
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return false;
}

function releaseLock(file: string): void {
  try {
    if (Number.parseInt(readFileSync(file, 'utf8'), 10) === process.pid) unlinkSync(file);
  } catch {
    // Already gone.
  }
}

/** Resolves 'live' when a daemon answers on `path`, 'stale' for a socket nobody listens on, 'absent'. */
function probe(path: string): Promise<'live' | 'stale' | 'absent'> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('live');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') resolve('absent');
      else if (error.code === 'ECONNREFUSED') resolve('stale');
      else reject(error);
    });
  });
}

function listenOn(server: Server, target: string | { fd: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // The bind happens synchronously inside listen(): with this umask the socket is 0600 from the start.
    const previous = process.umask(0o177);
    try {
      server.listen(target as never, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
}

/** systemd socket activation: LISTEN_PID is us and fd 3 is the listening socket. */
function inheritedFd(): number | undefined {
  const pid = Number.parseInt(process.env.LISTEN_PID ?? '', 10);
  const fds = Number.parseInt(process.env.LISTEN_FDS ?? '', 10);
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDS;
  delete process.env.LISTEN_FDNAMES;
  return pid === process.pid && fds >= 1 ? 3 : undefined;
}

export async function becomeDaemon(paths: Paths, server: Server): Promise<Listening> {
  const fd = inheritedFd();
  if (fd !== undefined) {
    await listenOn(server, { fd });
    log.info('listening on the socket passed by the service manager');
    // The service manager owns the socket file: never unlink it.
    return { kind: 'listening', release: () => server.close() };
  }
  ensurePrivateDir(paths.runtimeDir);
  if (!takeLock(paths.lockFile)) return { kind: 'already-running' };
  try {
    const state = await probe(paths.socketFile);
    if (state === 'live') {
      releaseLock(paths.lockFile);
      return { kind: 'already-running' };
    }
    if (state === 'stale') {
      log.info(`removing stale socket ${paths.socketFile}`);
      unlinkSync(paths.socketFile);
    }
    await listenOn(server, paths.socketFile);
    const st = statSync(paths.socketFile);
    if ((st.mode & 0o077) !== 0) {
      throw new UnsafeStateError(
        `socket ${paths.socketFile} was created with mode ${(st.mode & 0o777).toString(8)}`,
      );
    }
    const ino = st.ino;
    return {
      kind: 'listening',
      release: () => {
        server.close();
        try {
          if (statSync(paths.socketFile).ino === ino) unlinkSync(paths.socketFile);
        } catch {
          // Gone already.
        }
        releaseLock(paths.lockFile);
      },
    };
  } catch (error) {
    releaseLock(paths.lockFile);
    throw error;
  }
}
