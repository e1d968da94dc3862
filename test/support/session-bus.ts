/**
 * A private D-Bus session bus (dbus-daemon) for one test, optionally with a real Secret Service on it
 * (gnome-keyring-daemon, unlocked with a test password, keeping its keyring under the bus's directory).
 * Nothing is shared with a desktop session: the bus lives in a temporary directory and dies with stop().
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from './cog.js';

export function haveCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export class SessionBus {
  private readonly children: ChildProcess[] = [];

  private constructor(readonly dir: string) {}

  get address(): string {
    return `unix:path=${join(this.dir, 'bus')}`;
  }

  /** Environment for processes that should use this bus. */
  get env(): Record<string, string> {
    return { DBUS_SESSION_BUS_ADDRESS: this.address };
  }

  static async start(): Promise<SessionBus> {
    const bus = new SessionBus(mkdtempSync('/tmp/cogt-bus-'));
    const config = join(bus.dir, 'bus.conf');
    // No service directory: nothing is activated behind the test's back.
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${join(bus.dir, 'bus')}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>\n`,
    );
    const daemon = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork'], { stdio: 'ignore' });
    bus.children.push(daemon);
    await waitUntil('the session bus', () => existsSync(join(bus.dir, 'bus')));
    return bus;
  }

  /** Starts GNOME Keyring's Secret Service on this bus, unlocked; resolves once it owns its name. */
  async startSecretService(): Promise<ChildProcess> {
    const keyring = spawn('gnome-keyring-daemon', ['--unlock', '--components=secrets', '--foreground'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.dir,
        XDG_DATA_HOME: join(this.dir, 'data'),
        XDG_RUNTIME_DIR: this.dir,
        ...this.env,
      },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    keyring.stdin?.end('test-keyring-password');
    this.children.push(keyring);
    await waitUntil(
      'the Secret Service on the test bus',
      () =>
        spawnSync(
          'dbus-send',
          [
            `--bus=${this.address}`,
            '--print-reply',
            '--dest=org.freedesktop.DBus',
            '/org/freedesktop/DBus',
            'org.freedesktop.DBus.NameHasOwner',
            'string:org.freedesktop.secrets',
          ],
          { encoding: 'utf8' },
        ).stdout.includes('boolean true'),
      15_000,
    );
    return keyring;
  }

  async stop(): Promise<void> {
    for (const child of this.children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await waitUntil('a bus process to exit', () => child.exitCode !== null || child.signalCode !== null);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
