/**
 * Harness for the cognito-local emulator: the tests and `npm run demo` start a real emulator process with it.
 *
 * Each Emulator owns one child process (`node node_modules/cognito-local/lib/bin/start.js`) that keeps its data
 * in `<dir>/.cognito` and logs to `<dir>/emulator.log`. No test-framework imports here: the demo script loads
 * the compiled file from dist/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  type AuthenticationResultType,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SetUserMFAPreferenceCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';

export interface EmulatorOptions {
  /** Working directory (the emulator keeps its data in `<dir>/.cognito`). Default: a fresh temp dir. */
  dir?: string;
  /** Env CODE: every SMS code the emulator sends is this fixed code. */
  code?: string;
  /** Region for SDK clients and created pools. Default 'ap-northeast-1'. */
  region?: string;
}

export interface Pool {
  poolId: string;
  clientId: string;
  region: string;
}

export interface CreatePoolOptions {
  name?: string;
  accessTokenSeconds?: number;
  idTokenSeconds?: number;
}

const HOST = '127.0.0.1';
const DEFAULT_REGION = 'ap-northeast-1';
const DEFAULT_PHONE = '+15555550100';
/**
 * Deadline for one start attempt (spawn until `/health` answers). It usually answers in 1-2 s; on a loaded
 * 2-core machine (the suite's two workers beside the packaged-install test compiling better-sqlite3, on
 * Node 26) loading cognito-local and its AWS SDK v2 took over 15 s.
 */
const START_DEADLINE_MS = 60_000;
/** How long restart() keeps retrying the same port when something else holds it. */
const SAME_PORT_DEADLINE_MS = 10_000;
/** Fresh-port attempts on first start (the port picked can be taken before the child binds it). */
const FRESH_PORT_ATTEMPTS = 5;
const STOP_DEADLINE_MS = 5_000;
const POLL_MS = 50;

const startScript = join(
  dirname(createRequire(import.meta.url).resolve('cognito-local/package.json')),
  'lib/bin/start.js',
);

/**
 * Preloaded into the emulator: it exits when its IPC channel to us closes, so it dies with this process even
 * when this process is killed by a signal and its 'exit' handlers never run.
 */
const parentWatch = `data:text/javascript,${encodeURIComponent("process.on('disconnect', () => process.exit(0));")}`;

/** Children still running; killed if this process exits without stopping them. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

class PortInUseError extends Error {}

const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function tail(text: string, lines = 30): string {
  return text.replace(ansi, '').trimEnd().split('\n').slice(-lines).join('\n');
}

/** A loopback port that was free a moment ago (listen on port 0, read it, close). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a probe listener'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return false;
    const body = (await response.json()) as { ok?: unknown };
    return body.ok === true;
  } catch {
    return false;
  }
}

interface UserRecord {
  Username: string;
  Attributes?: { Name: string; Value?: string }[];
  MFAOptions?: { DeliveryMedium: string; AttributeName: string }[];
  UserMFASettingList?: string[];
  MFACode?: string;
  [key: string]: unknown;
}

interface PoolFile {
  Users?: Record<string, UserRecord>;
  [key: string]: unknown;
}

export class Emulator {
  readonly dir: string;
  readonly region: string;
  readonly code: string | undefined;
  port = 0;
  private child: ChildProcess | undefined;
  private childExit: Promise<void> | undefined;
  private readonly ownsDir: boolean;

  private constructor(dir: string, ownsDir: boolean, opts: EmulatorOptions) {
    this.dir = dir;
    this.ownsDir = ownsDir;
    this.region = opts.region ?? DEFAULT_REGION;
    this.code = opts.code;
  }

  get endpoint(): string {
    return `http://${HOST}:${this.port}`;
  }

  /** The running emulator's process id (undefined when stopped). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get logFile(): string {
    return join(this.dir, 'emulator.log');
  }

  /** The pool's data file; the emulator reads it only at start-up. */
  poolFile(poolId: string): string {
    return join(this.dir, '.cognito', 'db', `${poolId}.json`);
  }

  static async start(opts: EmulatorOptions = {}): Promise<Emulator> {
    let dir = opts.dir;
    const ownsDir = dir === undefined;
    if (dir === undefined) dir = await mkdtemp(join(tmpdir(), 'cog-token-emulator-'));
    const emulator = new Emulator(dir, ownsDir, opts);
    const config = join(dir, '.cognito', 'config.json');
    if (!existsSync(config)) {
      mkdirSync(dirname(config), { recursive: true });
      // Without this every pool gets UsernameAttributes ['email'] and plain usernames are rejected.
      await writeFile(
        config,
        `${JSON.stringify({ UserPoolDefaults: { UsernameAttributes: [] } }, null, 2)}\n`,
      );
    }
    await emulator.launch(false);
    return emulator;
  }

  /** SIGTERM, wait for the exit (SIGKILL after a deadline). Keeps the dir unless removeDir and we made it. */
  async stop(opts: { removeDir?: boolean } = {}): Promise<void> {
    const child = this.child;
    const exited = this.childExit;
    this.child = undefined;
    this.childExit = undefined;
    if (child !== undefined && exited !== undefined) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await within(exited, STOP_DEADLINE_MS))) {
          child.kill('SIGKILL');
          if (!(await within(exited, STOP_DEADLINE_MS))) {
            throw new Error(`emulator pid ${child.pid} did not exit after SIGKILL`);
          }
        }
      }
      liveChildren.delete(child);
    }
    if (opts.removeDir && this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Stops and starts again with the same dir and port (retrying the port while something else holds it). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch(true);
  }

  /** An SDK client for this emulator: dummy credentials, no retries, no keep-alive (survives restarts). */
  admin(region?: string): CognitoIdentityProviderClient {
    return new CognitoIdentityProviderClient({
      region: region ?? this.region,
      endpoint: this.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      // The emulator answers unsupported operations with HTTP 500, which the SDK would otherwise retry.
      maxAttempts: 1,
      // A kept-alive socket to a stopped emulator would fail the first request after restart().
      requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
    });
  }

  /** A pool and an app client without secret that allows USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH. */
  async createPool(opts: CreatePoolOptions = {}): Promise<Pool> {
    const client = this.admin();
    try {
      const name = opts.name ?? `pool-${Date.now().toString(36)}`;
      const created = await client.send(
        new CreateUserPoolCommand({ PoolName: name, MfaConfiguration: 'OPTIONAL' }),
      );
      const poolId = created.UserPool?.Id;
      if (!poolId) throw new Error('CreateUserPool returned no pool id');
      const units: { AccessToken?: 'seconds'; IdToken?: 'seconds' } = {};
      if (opts.accessTokenSeconds !== undefined) units.AccessToken = 'seconds';
      if (opts.idTokenSeconds !== undefined) units.IdToken = 'seconds';
      const appClient = await client.send(
        new CreateUserPoolClientCommand({
          UserPoolId: poolId,
          ClientName: `${name}-client`,
          GenerateSecret: false,
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH'],
          AccessTokenValidity: opts.accessTokenSeconds,
          IdTokenValidity: opts.idTokenSeconds,
          TokenValidityUnits: Object.keys(units).length > 0 ? units : undefined,
        }),
      );
      const clientId = appClient.UserPoolClient?.ClientId;
      if (!clientId) throw new Error('CreateUserPoolClient returned no client id');
      return { poolId, clientId, region: this.region };
    } finally {
      client.destroy();
    }
  }

  /** A confirmed user with a permanent password (no invitation message). */
  async createUser(
    pool: Pool,
    username: string,
    password: string,
    attributes: Record<string, string> = {},
  ): Promise<void> {
    const client = this.admin(pool.region);
    try {
      await client.send(
        new AdminCreateUserCommand({
          UserPoolId: pool.poolId,
          Username: username,
          MessageAction: 'SUPPRESS',
          UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
        }),
      );
      await client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: pool.poolId,
          Username: username,
          Password: password,
          Permanent: true,
        }),
      );
    } finally {
      client.destroy();
    }
  }

  /**
   * Turns on SMS MFA for a user. No API of the emulator does this, so: stop it, add
   * MFAOptions [{SMS, phone_number}] (and a phone_number) to the user record in the pool file, start it again.
   * SMS_MFA also goes into UserMFASettingList, so that a later enableTotp leaves both on (as in Cognito).
   */
  async enableSmsMfa(pool: Pool, username: string, phone?: string): Promise<void> {
    await this.stop();
    try {
      await editUser(this.poolFile(pool.poolId), username, (user) => {
        user.Attributes ??= [];
        const phoneAttribute = user.Attributes.find((a) => a.Name === 'phone_number');
        if (phoneAttribute === undefined) {
          user.Attributes.push({ Name: 'phone_number', Value: phone ?? DEFAULT_PHONE });
        } else if (phone !== undefined) {
          phoneAttribute.Value = phone;
        }
        user.MFAOptions = [
          ...(user.MFAOptions ?? []).filter((o) => o.DeliveryMedium !== 'SMS'),
          { DeliveryMedium: 'SMS', AttributeName: 'phone_number' },
        ];
        user.UserMFASettingList = [...new Set([...(user.UserMFASettingList ?? []), 'SMS_MFA'])];
      });
    } finally {
      await this.launch(true);
    }
  }

  /**
   * Turns on TOTP MFA: sign in with the password, AssociateSoftwareToken, VerifySoftwareToken with
   * codeFor(secret), SetUserMFAPreference (enabled, preferred). Returns the base32 secret.
   */
  async enableTotp(
    pool: Pool,
    username: string,
    password: string,
    codeFor: (secret: string) => string,
  ): Promise<{ secret: string }> {
    const client = this.admin(pool.region);
    try {
      const auth = await client.send(
        new InitiateAuthCommand({
          ClientId: pool.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: username, PASSWORD: password },
        }),
      );
      let result: AuthenticationResultType | undefined = auth.AuthenticationResult;
      if (result === undefined && auth.ChallengeName === 'SMS_MFA') {
        const code = await this.lastSmsCode(pool, username);
        const answer = await client.send(
          new RespondToAuthChallengeCommand({
            ClientId: pool.clientId,
            ChallengeName: 'SMS_MFA',
            Session: auth.Session,
            ChallengeResponses: { USERNAME: username, SMS_MFA_CODE: code ?? '' },
          }),
        );
        result = answer.AuthenticationResult;
      }
      const accessToken = result?.AccessToken;
      if (!accessToken) {
        throw new Error(
          `enableTotp: sign-in for ${username} gave challenge ${auth.ChallengeName}, not tokens`,
        );
      }
      const associated = await client.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
      const secret = associated.SecretCode;
      if (!secret) throw new Error('AssociateSoftwareToken returned no SecretCode');
      const verified = await client.send(
        new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: codeFor(secret) }),
      );
      if (verified.Status !== 'SUCCESS') throw new Error(`VerifySoftwareToken: status ${verified.Status}`);
      await client.send(
        new SetUserMFAPreferenceCommand({
          AccessToken: accessToken,
          SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
        }),
      );
      return { secret };
    } finally {
      client.destroy();
    }
  }

  /** The SMS code the emulator last sent to the user (`MFACode` in the pool file), if any is pending. */
  async lastSmsCode(pool: Pool, username: string): Promise<string | undefined> {
    const file = this.poolFile(pool.poolId);
    const deadline = Date.now() + 2_000;
    for (;;) {
      try {
        const data = JSON.parse(await readFile(file, 'utf8')) as PoolFile;
        return findUser(data, username)?.MFACode;
      } catch (error) {
        // The emulator rewrites the file in place; a read can land in the middle of a write.
        if (!(error instanceof SyntaxError) || Date.now() > deadline) throw error;
        await delay(POLL_MS);
      }
    }
  }

  /** Starts the child on the current port (sameport) or on fresh ports, retrying while the port is taken. */
  private async launch(samePort: boolean): Promise<void> {
    let lastError: Error | undefined;
    if (samePort) {
      const deadline = Date.now() + SAME_PORT_DEADLINE_MS;
      do {
        try {
          await this.spawnOnce(this.port);
          return;
        } catch (error) {
          if (!(error instanceof PortInUseError)) throw error;
          lastError = error;
          await delay(200);
        }
      } while (Date.now() < deadline);
    } else {
      for (let attempt = 0; attempt < FRESH_PORT_ATTEMPTS; attempt++) {
        try {
          await this.spawnOnce(await freePort());
          return;
        } catch (error) {
          if (!(error instanceof PortInUseError)) throw error;
          lastError = error;
        }
      }
    }
    throw lastError ?? new Error('emulator did not start');
  }

  private async spawnOnce(port: number): Promise<void> {
    const logFile = this.logFile;
    const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST };
    delete env.CODE;
    if (this.code !== undefined) env.CODE = this.code;
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [`--import=${parentWatch}`, startScript], {
        cwd: this.dir,
        env,
        stdio: ['ignore', fd, fd, 'ipc'],
      });
    } finally {
      closeSync(fd);
    }
    installExitHook();
    liveChildren.add(child);
    let exited = false;
    const exit = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exited = true;
        liveChildren.delete(child);
        resolve();
      });
      child.once('error', () => {
        exited = true;
        liveChildren.delete(child);
        resolve();
      });
    });

    const endpoint = `http://${HOST}:${port}`;
    // Another process may answer /health on a port we lost the race for: also wait for the child's own
    // "running on" line, which it logs only after it is listening.
    const runningLine = `running on ${endpoint}`;
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!exited) {
      if ((await healthy(endpoint)) && (await readLog(logFile, logStart)).includes(runningLine) && !exited) {
        this.child = child;
        this.childExit = exit;
        this.port = port;
        return;
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await within(exit, STOP_DEADLINE_MS);
        throw new Error(
          `cognito-local did not answer ${endpoint}/health within ${START_DEADLINE_MS} ms; log tail:\n` +
            tail(await readLog(logFile, logStart)),
        );
      }
      await Promise.race([delay(POLL_MS), exit]);
    }
    const log = await readLog(logFile, logStart);
    if (log.includes('EADDRINUSE')) throw new PortInUseError(`port ${port} is in use`);
    throw new Error(
      `cognito-local exited during start-up (code ${child.exitCode}, signal ${child.signalCode}); ` +
        `log tail (${logFile}):\n${tail(log)}`,
    );
  }
}

/** Rewrites one user record in a pool file (the emulator must be stopped: it reads files only at start-up). */
async function editUser(file: string, username: string, edit: (user: UserRecord) => void): Promise<void> {
  const data = JSON.parse(await readFile(file, 'utf8')) as PoolFile;
  const user = findUser(data, username);
  if (user === undefined) throw new Error(`no user ${username} in ${file}`);
  edit(user);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(data, null, 2)}\n`);
  await rename(temporary, file);
}

function findUser(data: PoolFile, username: string): UserRecord | undefined {
  const users = data.Users ?? {};
  return users[username] ?? Object.values(users).find((u) => u.Username === username);
}

/** The log written since byte offset `from`. */
async function readLog(file: string, from: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.max(0, size - from));
    await handle.read(buffer, 0, buffer.length, from);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** True when the promise settles within ms. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then(() => true),
      delay(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}
