/**
 * Becoming the one daemon: an exclusive lock the kernel drops when its holder dies, the stale-socket check,
 * binding a 0600 socket in a 0700 directory, or taking the socket systemd passed in; and cleaning up only
 * what is ours on the way out.
 *
 * The lock is an SQLite EXCLUSIVE transaction held open on `daemon.mutex` for the daemon's whole life: SQLite
 * takes it with fcntl(), which the kernel releases when the process ends however it ends (kill -9 included).
 * So a crashed daemon never leaves a lock behind that blocks the next start, and a recycled pid cannot make a
 * dead daemon look alive (ARCHITECTURE.md, Files: `daemon.lock`, and the store's own `daemon.mutex`).
 */
import { lstatSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { CogTokenError, messageOf, UnsafeStateError } from '../shared/errors.js';
import type { Paths } from '../shared/paths.js';
import { ensurePrivateDir } from '../system/private-directory.js';
import { log } from './log.js';
import { checkSocketDirectory } from './socket-directory.js';

/** Where to put the socket when its directory is not one to change (shared, another user's, $HOME). */
const socketElsewhere =
  'use a directory of your own for the socket, e.g. COG_TOKEN_SOCKET=$XDG_RUNTIME_DIR/cog-token/sock (or leave COG_TOKEN_SOCKET unset)';

export type Listening = { kind: 'listening'; release(): void } | { kind: 'already-running' };

/**
 * Takes the store's lock, after the socket's (so that daemons racing for one socket sort themselves out
 * first, quietly). Held by another live daemon means one serves this store on another socket (another
 * COG_TOKEN_SOCKET or XDG_RUNTIME_DIR, or a socket-activated one): two daemons refreshing the same tokens
 * could race each other's rotation, so this one refuses to start.
 */
function takeStoreMutex(paths: Paths): Database.Database {
  ensurePrivateDir(paths.dataDir);
  const mutex = takeMutex(join(paths.dataDir, 'daemon.mutex'));
  if (mutex) return mutex;
  throw new CogTokenError('daemon-unreachable', {
    problem: `another cog-token daemon already uses the token store in ${paths.dataDir}, through another socket than ${paths.socketFile}`,
    remedy: 'use the same COG_TOKEN_SOCKET (or XDG_RUNTIME_DIR) as it, or stop it first',
  });
}

/** Holds the exclusive lock until closed; undefined when another live process holds it. */
function takeMutex(file: string): Database.Database | undefined {
  for (let attempt = 0; ; attempt++) {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: 0 });
      // No journal file: nothing is ever written, the transaction exists only for its lock.
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
      return db;
    } catch (error) {
      db?.close();
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return undefined;
      // Not an SQLite file (damaged, or something else took the name): it holds nothing, replace it once.
      if (attempt === 0 && (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')) {
        log.warn(`replacing unusable lock file ${file} (${messageOf(error)})`);
        unlinkSync(file);
        continue;
      }
      throw error;
    }
  }
}

function closeQuietly(db: Database.Database | undefined): void {
  try {
    db?.close();
  } catch {
    // The kernel drops the lock with the process anyway.
  }
}

/** Records our pid in the lock file; written whole or not at all (a reader never sees a half-written pid). */
function writePidFile(file: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${process.pid}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

function removePidFile(file: string): void {
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

/**
 * Refuses when something other than a socket of this user's is at the socket path: the daemon removes only
 * a stale socket, never a file a mistyped COG_TOKEN_SOCKET happens to name. Returns whether one is there.
 */
function checkSocketFile(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return false;
  const uid = process.getuid?.();
  const what = st.isSocket()
    ? uid === undefined || st.uid === uid
      ? undefined
      : `a socket of uid ${st.uid}`
    : st.isSymbolicLink()
      ? 'a symlink'
      : st.isDirectory()
        ? 'a directory'
        : st.isFile()
          ? 'a regular file'
          : 'not a socket';
  if (what === undefined) return true;
  throw new UnsafeStateError({
    problem: `${path} is ${what}, not a socket this daemon made, and is left as it is`,
    remedy: 'move it aside, or set COG_TOKEN_SOCKET to another path',
  });
}

export async function becomeDaemon(paths: Paths, server: Server): Promise<Listening> {
  const fd = inheritedFd();
  if (fd !== undefined) {
    const storeMutex = takeStoreMutex(paths);
    await listenOn(server, { fd });
    log.info('listening on the socket passed by the service manager');
    // The service manager owns the socket file: never unlink it.
    return {
      kind: 'listening',
      release: () => {
        server.close();
        closeQuietly(storeMutex);
      },
    };
  }
  // Before creating anything on the way, and again once the directories exist.
  checkSocketDirectory(paths.socketFile);
  ensurePrivateDir(paths.runtimeDir, socketElsewhere);
  checkSocketDirectory(paths.socketFile);
  const mutex = takeMutex(join(paths.runtimeDir, 'daemon.mutex'));
  if (!mutex) return { kind: 'already-running' };
  let storeMutex: Database.Database | undefined;
  const unlock = () => {
    removePidFile(paths.lockFile);
    closeQuietly(storeMutex);
    closeQuietly(mutex);
  };
  try {
    writePidFile(paths.lockFile);
    checkSocketFile(paths.socketFile);
    const state = await probe(paths.socketFile);
    if (state === 'live') {
      // A daemon that does not take this lock serves here (socket activation, an older version): leave.
      unlock();
      return { kind: 'already-running' };
    }
    storeMutex = takeStoreMutex(paths);
    if (state === 'stale') {
      // We hold the lock, so no other daemon can be binding this path: whatever is there is left over.
      if (checkSocketFile(paths.socketFile)) {
        log.info(`removing stale socket ${paths.socketFile}`);
        unlinkSync(paths.socketFile);
      }
    }
    await listenOn(server, paths.socketFile);
    const st = statSync(paths.socketFile);
    if ((st.mode & 0o077) !== 0) {
      throw new UnsafeStateError({
        where: `socket ${paths.socketFile}`,
        problem: `was created with mode ${(st.mode & 0o777).toString(8)}`,
        remedy: `check the umask and the directory ${dirname(paths.socketFile)}, then start the daemon again`,
      });
    }
    return {
      kind: 'listening',
      release: () => {
        server.close();
        try {
          if (statSync(paths.socketFile).ino === st.ino) unlinkSync(paths.socketFile);
        } catch {
          // Gone already.
        }
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
