/**
 * `cog-token service install|uninstall|status`: the daemon as a systemd user service (socket-activated) or
 * a launchd user agent. The files written are the ones in the repository's systemd/ and launchd/
 * directories, with the absolute paths of this node and this entry point put in (service managers look
 * nothing up on PATH), and the cog-token variables of the installing shell carried over.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CogTokenError } from '../shared/errors.js';
import { daemonNodeOptions } from './daemon-connection.js';

export type Platform = 'linux' | 'darwin';
const launchdLabel = 'io.github.cog-token.daemon';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const templates = {
  socket: join(packageRoot, 'systemd', 'cog-token.socket'),
  service: join(packageRoot, 'systemd', 'cog-token.service'),
  plist: join(packageRoot, 'launchd', `${launchdLabel}.plist`),
};

/** Variables that move cog-token's files; the service must see the same ones as the shell. */
const carried = [
  'COG_TOKEN_CONFIG',
  'COG_TOKEN_KEY_FILE',
  'COG_TOKEN_LOG',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_STATE_HOME',
  'XDG_CACHE_HOME',
];

interface ServiceFile {
  path: string;
  content: string;
}

export interface ServicePlan {
  platform: Platform;
  files: ServiceFile[];
  /** The one command that starts it (after install). */
  enable: string;
  /** The one command that stops it (after uninstall). */
  disable: string;
  warnings: string[];
}

export interface PlanOptions {
  platform: Platform;
  env: NodeJS.ProcessEnv;
  /** Absolute paths: the node binary and dist/client/main.js. */
  node: string;
  entry: string;
  /** The daemon's log file (launchd's StandardErrorPath). */
  logFile: string;
  uid: number;
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A systemd value: `%` doubled (specifiers), quoted with C escapes unless plain. */
function systemdQuoted(text: string): string {
  const escaped = text.replace(/%/g, '%%');
  return /^[\w@+=:,./-]+$/.test(escaped)
    ? escaped
    : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One word of ExecStart=: also `$` doubled (ExecStart expands variables; Environment= does not). */
function execWord(text: string): string {
  return systemdQuoted(text.replace(/\$/g, '$$$$'));
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function replaceOnce(text: string, search: string | RegExp, replacement: string, what: string): string {
  const found = typeof search === 'string' ? text.includes(search) : search.test(text);
  if (!found)
    throw new CogTokenError('internal', {
      problem: `the ${what} template has changed: cannot place the ${what}`,
    });
  return text.replace(search, () => replacement);
}

function carriedEnv(env: NodeJS.ProcessEnv, names: string[]): [string, string][] {
  return names.flatMap((name) => {
    const value = env[name];
    return value ? [[name, value] as [string, string]] : [];
  });
}

function systemdUserDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'systemd', 'user');
}

function launchAgentsDir(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), 'Library', 'LaunchAgents');
}

/**
 * A line break (or NUL) in a value written into a unit or plist would end its line and start one of the
 * value's choosing (`ExecStartPre=...`): refuse it, naming where it came from, never the value.
 */
function refuseLineBreaks(o: PlanOptions, envNames: string[]): void {
  const values: [string, string | undefined][] = [
    ['the path of node', o.node],
    ['the path of cog-token', o.entry],
    ['the daemon log path (from XDG_STATE_HOME or HOME)', o.logFile],
    ...envNames.map((name): [string, string | undefined] => [`the variable ${name}`, o.env[name]]),
  ];
  for (const [what, value] of values) {
    if (value !== undefined && /[\n\r\0]/.test(value)) {
      throw new CogTokenError('usage', {
        where: 'service',
        problem: `${what} holds a line break, which would inject a line into the service file`,
        remedy: 'fix or unset it, then run cog-token service install again',
      });
    }
  }
}

export function servicePlan(o: PlanOptions): ServicePlan {
  const warnings: string[] = [];
  refuseLineBreaks(o, [...carried, 'COG_TOKEN_SOCKET', 'XDG_RUNTIME_DIR']);
  if (o.platform === 'linux') {
    const dir = systemdUserDir(o.env);
    if (o.env.COG_TOKEN_SOCKET) {
      warnings.push(
        `COG_TOKEN_SOCKET is set (${o.env.COG_TOKEN_SOCKET}) but the socket unit listens on $XDG_RUNTIME_DIR/cog-token/sock: unset it, or clients will not find the service`,
      );
    }
    const exec = `ExecStart=${[o.node, ...daemonNodeOptions, o.entry, 'daemon'].map(execWord).join(' ')}`;
    const environment = carriedEnv(o.env, carried).map(
      ([k, v]) => `Environment=${systemdQuoted(`${k}=${v}`)}`,
    );
    let service = readFileSync(templates.service, 'utf8');
    service = replaceOnce(service, /^ExecStart=.*$/m, [exec, ...environment].join('\n'), 'ExecStart line');
    service = service.replace(
      /^# `cog-token service install` writes this unit.*\n/m,
      `# Written by cog-token service install: run it again after moving node or cog-token.\n`,
    );
    return {
      platform: 'linux',
      files: [
        { path: join(dir, 'cog-token.socket'), content: readFileSync(templates.socket, 'utf8') },
        { path: join(dir, 'cog-token.service'), content: service },
      ],
      enable: 'systemctl --user enable --now cog-token.socket',
      disable: 'systemctl --user stop cog-token.socket cog-token.service; systemctl --user daemon-reload',
      warnings,
    };
  }
  const path = join(launchAgentsDir(o.env), `${launchdLabel}.plist`);
  let plist = readFileSync(templates.plist, 'utf8');
  plist = replaceOnce(
    plist,
    /<key>ProgramArguments<\/key>\s*<array>[\s\S]*?<\/array>/,
    [
      '<key>ProgramArguments</key>',
      '  <array>',
      ...[o.node, ...daemonNodeOptions, o.entry, 'daemon'].map((a) => `    <string>${xmlText(a)}</string>`),
      '  </array>',
    ].join('\n'),
    'ProgramArguments',
  );
  plist = replaceOnce(
    plist,
    /(<key>StandardErrorPath<\/key>\s*<string>)[^<]*(<\/string>)/,
    `<key>StandardErrorPath</key>\n  <string>${xmlText(o.logFile)}</string>`,
    'StandardErrorPath',
  );
  // launchd jobs get no XDG_RUNTIME_DIR: carry it too, or clients and daemon disagree on the socket.
  const env = carriedEnv(o.env, [...carried, 'COG_TOKEN_SOCKET', 'XDG_RUNTIME_DIR']);
  if (env.length > 0) {
    const entries = env.flatMap(([k, v]) => [
      `    <key>${xmlText(k)}</key>`,
      `    <string>${xmlText(v)}</string>`,
    ]);
    plist = replaceOnce(
      plist,
      /\n<\/dict>\s*<\/plist>\s*$/,
      [
        '',
        '  <key>EnvironmentVariables</key>',
        '  <dict>',
        ...entries,
        '  </dict>',
        '</dict>',
        '</plist>',
        '',
      ].join('\n'),
      'end of the plist',
    );
  }
  return {
    platform: 'darwin',
    files: [{ path, content: plist }],
    enable: `launchctl bootstrap gui/${o.uid} ${shellWord(path)}`,
    disable: `launchctl bootout gui/${o.uid}/${launchdLabel}`,
    warnings,
  };
}

/** Writes each file through a temporary file and a rename, so a service manager never reads half of one. */
export function installFiles(plan: ServicePlan): void {
  for (const f of plan.files) {
    mkdirSync(dirname(f.path), { recursive: true, mode: 0o755 });
    const temp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(temp, f.content, { mode: 0o644 });
    renameSync(temp, f.path);
  }
}

/**
 * Removes the files and, for systemd, the `*.wants/` links `enable` made (what `disable` would remove,
 * which it cannot once the unit files are gone). Returns what was removed.
 */
export function uninstallFiles(plan: ServicePlan, env: NodeJS.ProcessEnv): string[] {
  const removed: string[] = [];
  const targets = new Set(plan.files.map((f) => f.path));
  if (plan.platform === 'linux') {
    const dir = systemdUserDir(env);
    const names = new Set(plan.files.map((f) => f.path.slice(f.path.lastIndexOf('/') + 1)));
    let entries: string[] = [];
    try {
      entries = readdirSync(dir).filter((d) => d.endsWith('.wants') || d.endsWith('.requires'));
    } catch {
      entries = [];
    }
    for (const wants of entries) {
      for (const name of names) {
        const link = join(dir, wants, name);
        try {
          if (!lstatSync(link).isSymbolicLink()) continue;
          const to = resolve(join(dir, wants), readlinkSync(link));
          if (targets.has(to) || to.endsWith(`/${name}`)) {
            rmSync(link);
            removed.push(link);
          }
        } catch {
          // Not there.
        }
      }
    }
  }
  for (const path of targets) {
    if (existsSync(path)) {
      rmSync(path);
      removed.push(path);
    }
  }
  return removed;
}

export type FileState = 'absent' | 'current' | 'outdated';

export function fileStates(plan: ServicePlan): { path: string; state: FileState }[] {
  return plan.files.map((f) => {
    let content: string | undefined;
    try {
      content = readFileSync(f.path, 'utf8');
    } catch {
      content = undefined;
    }
    return {
      path: f.path,
      state: content === undefined ? 'absent' : content === f.content ? 'current' : 'outdated',
    };
  });
}
