/**
 * The daemon as a service: the systemd units and the launchd plist in the repository, what
 * `cog-token service install` writes (checked by systemd-analyze and by the plist package), status and
 * uninstall, and socket activation for real through systemd-socket-activate.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parsePlist } from 'plist';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, cli, pidAlive, waitUntil } from './support/cog.js';
import { Cleanups, emulatorSuite } from './support/suite.js';

const execFileAsync = promisify(execFile);
const repo = resolve(import.meta.dirname, '..');
const repoSocket = join(repo, 'systemd', 'cog-token.socket');
const repoService = join(repo, 'systemd', 'cog-token.service');
const label = 'io.github.cog-token.daemon';
const repoPlist = join(repo, 'launchd', `${label}.plist`);
const PW = 'Service-Pa55!';

const cleanups = new Cleanups();

function newEnv(): CogEnv {
  return cleanups.newEnv();
}

/** `systemd-analyze --user verify --man=no` (it needs an XDG_RUNTIME_DIR, even a scratch one). */
async function verify(...units: string[]): Promise<{ code: number; output: string }> {
  const runtime = mkdtempSync(join(tmpdir(), 'cog-verify-'));
  try {
    const { stdout, stderr } = await execFileAsync(
      'systemd-analyze',
      ['--user', 'verify', '--man=no', ...units],
      {
        env: { ...process.env, XDG_RUNTIME_DIR: runtime },
      },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    rmSync(runtime, { recursive: true, force: true });
  }
}

/** `key=value` lines of an INI-style unit (comments dropped). */
function keys(unit: string): string[] {
  return unit
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('['));
}

describe('the unit files and the plist in the repository', () => {
  it('systemd-analyze --user verify passes on both units', async () => {
    expect(await verify(repoSocket, repoService)).toEqual({ code: 0, output: '' });
  });

  it('the socket is private; the service is hardened without MemoryDenyWriteExecute', () => {
    const socket = keys(readFileSync(repoSocket, 'utf8'));
    expect(socket).toEqual(
      expect.arrayContaining([
        'ListenStream=%t/cog-token/sock',
        'SocketMode=0600',
        'DirectoryMode=0700',
        'WantedBy=sockets.target',
      ]),
    );
    const service = keys(readFileSync(repoService, 'utf8'));
    expect(service).toEqual(
      expect.arrayContaining([
        'Type=simple',
        'Requires=cog-token.socket',
        'Restart=on-failure',
        'UMask=0077',
        'NoNewPrivileges=yes',
        'LockPersonality=yes',
        'RestrictNamespaces=yes',
        'SystemCallArchitectures=native',
        'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
      ]),
    );
    expect(service.some((l) => l.startsWith('MemoryDenyWriteExecute'))).toBe(false);
    expect(service.filter((l) => l.startsWith('ExecStart=')).map((l) => l.endsWith(' daemon'))).toEqual([
      true,
    ]);
  });

  it('verify is a real check: it fails on a misspelt key and a missing program', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cog-badunit-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const service = readFileSync(repoService, 'utf8')
      .replace('Restart=on-failure', 'Restat=on-failure')
      .replace(/^ExecStart=.*$/m, 'ExecStart=/nonexistent/node daemon');
    writeFileSync(join(dir, 'cog-token.service'), service);
    writeFileSync(join(dir, 'cog-token.socket'), readFileSync(repoSocket));
    const r = await verify(join(dir, 'cog-token.socket'), join(dir, 'cog-token.service'));
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Unknown key 'Restat'/);
    expect(r.output).toMatch(/\/nonexistent\/node is not executable/);
  });

  it('the plist parses with the plist package (v5) and has the keys launchd needs', () => {
    const p = parsePlist(readFileSync(repoPlist, 'utf8')) as Record<string, unknown>;
    expect(p).toMatchObject({
      Label: label,
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      Umask: 0o077,
    });
    expect(p.ProgramArguments).toEqual([
      expect.stringMatching(/^\/.*node$/),
      '--max-semi-space-size=2',
      expect.stringMatching(/^\/.*main\.js$/),
      'daemon',
    ]);
    expect(p.StandardErrorPath).toMatch(/^\//);
  });
});

describe('cog-token service install | status | uninstall', () => {
  it('linux: writes both units with the real paths; verify passes on them; uninstall undoes it', async () => {
    const env = newEnv();
    const r = await env.run(['service', 'install', '--platform', 'linux']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('systemctl --user enable --now cog-token.socket\n');
    const dir = join(env.env.XDG_CONFIG_HOME as string, 'systemd', 'user');
    const socket = join(dir, 'cog-token.socket');
    const service = join(dir, 'cog-token.service');
    expect(r.stderr).toBe(`cog-token: wrote ${socket}\ncog-token: wrote ${service}\n`);
    expect(readFileSync(socket, 'utf8')).toBe(readFileSync(repoSocket, 'utf8'));
    const text = readFileSync(service, 'utf8');
    expect(keys(text).filter((l) => l.startsWith('ExecStart='))).toEqual([
      `ExecStart=${realpathSync(process.execPath)} --max-semi-space-size=2 ${realpathSync(cli)} daemon`,
    ]);
    // The variables that move cog-token's files in this shell reach the service too.
    expect(keys(text)).toContain(`Environment=XDG_DATA_HOME=${env.env.XDG_DATA_HOME}`);
    expect(keys(text)).toContain(`Environment=XDG_CONFIG_HOME=${env.env.XDG_CONFIG_HOME}`);
    expect(await verify(socket, service)).toEqual({ code: 0, output: '' });

    const status = await env.run(['service', 'status', '--platform', 'linux']);
    expect(status.stdout).toContain(`${socket}: installed\n${service}: installed\n`);
    expect(status.stdout).toContain('daemon: not running');
    writeFileSync(service, text.replace('Restart=on-failure', 'Restart=always'));
    expect((await env.run(['service', 'status', '--platform', 'linux'])).stdout).toContain(
      `${service}: differs from what install writes now: run cog-token service install`,
    );

    // What `systemctl --user enable` makes, which uninstall must remove with the files.
    mkdirSync(join(dir, 'sockets.target.wants'));
    symlinkSync(socket, join(dir, 'sockets.target.wants', 'cog-token.socket'));
    const u = await env.run(['service', 'uninstall', '--platform', 'linux']);
    expect(u.code).toBe(0);
    expect(u.stdout).toBe(
      'systemctl --user stop cog-token.socket cog-token.service; systemctl --user daemon-reload\n',
    );
    expect(existsSync(socket) || existsSync(service)).toBe(false);
    expect(existsSync(join(dir, 'sockets.target.wants', 'cog-token.socket'))).toBe(false);
    expect((await env.run(['service', 'status', '--platform', 'linux'])).stdout).toContain(
      `${socket}: not installed`,
    );
  });

  it('a path with a space and a % is quoted for systemd', async () => {
    const env = newEnv();
    const odd = join(env.root, 'my data 100%');
    const r = await env.run(['service', 'install', '--platform', 'linux'], { env: { XDG_DATA_HOME: odd } });
    expect(r.code).toBe(0);
    const dir = join(env.env.XDG_CONFIG_HOME as string, 'systemd', 'user');
    const text = readFileSync(join(dir, 'cog-token.service'), 'utf8');
    expect(keys(text)).toContain(`Environment="XDG_DATA_HOME=${odd.replace('%', '%%')}"`);
    expect(await verify(join(dir, 'cog-token.socket'), join(dir, 'cog-token.service'))).toEqual({
      code: 0,
      output: '',
    });
  });

  it('a value holding a line break is refused, nothing written: it would inject a line into the unit or plist', async () => {
    const env = newEnv();
    const injected = `${join(env.root, 'data')}\nExecStartPre=/bin/touch ${join(env.root, 'pwned')}`;
    const cases: [string, Record<string, string>, string][] = [
      ['linux', { XDG_DATA_HOME: injected }, 'the variable XDG_DATA_HOME'],
      ['linux', { COG_TOKEN_CONFIG: 'config.toml\r\nExecStart=/bin/sh' }, 'the variable COG_TOKEN_CONFIG'],
      // darwin: the log path (StandardErrorPath) comes from XDG_STATE_HOME.
      ['darwin', { XDG_STATE_HOME: `${env.root}/state\n</string>` }, 'the daemon log path'],
    ];
    for (const [platform, vars, what] of cases) {
      const r = await env.run(['service', 'install', '--platform', platform], { env: vars });
      expect(r.stdout, what).toBe('');
      expect(r.code, what).toBe(ExitStatus.usage);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines, what).toHaveLength(1);
      expect(lines[0]).toContain(`service: ${what}`);
      expect(lines[0]).toMatch(
        /holds a line break, which would inject a line into the service file: fix or unset it/,
      );
      expect(r.stderr).not.toContain('ExecStart');
    }
    expect(existsSync(join(env.env.XDG_CONFIG_HOME as string, 'systemd', 'user', 'cog-token.service'))).toBe(
      false,
    );
    expect(existsSync(join(env.root, 'Library', 'LaunchAgents', `${label}.plist`))).toBe(false);
  });

  it('darwin: writes the LaunchAgent plist with the real paths; it parses and has the keys', async () => {
    const env = newEnv();
    const r = await env.run(['service', 'install', '--platform', 'darwin']);
    expect(r.code).toBe(0);
    const path = join(env.root, 'Library', 'LaunchAgents', `${label}.plist`);
    expect(r.stdout).toBe(`launchctl bootstrap gui/${process.getuid?.()} ${path}\n`);
    const p = parsePlist(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(p).toEqual({
      Label: label,
      ProgramArguments: [
        realpathSync(process.execPath),
        '--max-semi-space-size=2',
        realpathSync(cli),
        'daemon',
      ],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ProcessType: 'Standard',
      Umask: 63,
      StandardErrorPath: env.logFile,
      EnvironmentVariables: {
        COG_TOKEN_LOG: env.env.COG_TOKEN_LOG,
        XDG_CONFIG_HOME: env.env.XDG_CONFIG_HOME,
        XDG_DATA_HOME: env.env.XDG_DATA_HOME,
        XDG_STATE_HOME: env.env.XDG_STATE_HOME,
        XDG_CACHE_HOME: env.env.XDG_CACHE_HOME,
        XDG_RUNTIME_DIR: env.env.XDG_RUNTIME_DIR,
      },
    });
    const u = await env.run(['service', 'uninstall', '--platform', 'darwin']);
    expect(u.stdout).toBe(`launchctl bootout gui/${process.getuid?.()}/${label}\n`);
    expect(existsSync(path)).toBe(false);
  });
});

describe('socket activation, for real', () => {
  const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

  it('systemd-socket-activate -l <socket> cog-token daemon: the daemon takes the socket it is given', async () => {
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
        password_command: env.countingCommand('pw', PW),
      }),
    );
    mkdirSync(env.runtimeDir, { mode: 0o700 });
    const child: ChildProcess = spawn(
      'systemd-socket-activate',
      [
        '-l',
        env.socketFile,
        ...Object.entries(env.env).flatMap(([k, v]) => ['-E', `${k}=${v}`]),
        process.execPath,
        cli,
        'daemon',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    cleanups.push(async () => {
      if (child.pid !== undefined && pidAlive(child.pid)) {
        child.kill('SIGTERM');
        await exited;
      }
    });
    await waitUntil('systemd-socket-activate to listen', () => existsSync(env.socketFile));

    // The first client's connection starts the daemon (systemd-socket-activate execs it in place).
    const r = await env.run(['get', 'dev']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eyJ/);
    const status = JSON.parse((await env.run(['status', '--json'])).stdout) as { pid: number };
    expect(status.pid).toBe(child.pid);
    expect(log).toMatch(/listening on the socket passed by the service manager/);
    // It bound nothing itself: no lock file, no socket of its own.
    expect(existsSync(env.lockFile)).toBe(false);
    expect(await env.daemonPids()).toEqual([]);

    const stop = await env.run(['stop']);
    expect(stop.code).toBe(0);
    expect(await exited).toBe(0);
    // The socket belongs to the service manager: the daemon leaves it in place.
    expect(existsSync(env.socketFile)).toBe(true);
  });
});
