/** `configure` and the identity-pool keys (issue 14): it asks for identity_pool_id and checks its form. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/shared/config.js';
import { ExitStatus } from '../src/shared/errors.js';
import { cli } from './support/cog.js';
import { Cleanups } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const cleanups = new Cleanups();
const POOL = 'eu-west-1:11111111-2222-3333-4444-555555555555';

describe('configure and the identity pool', () => {
  it('asks for identity_pool_id on the terminal, re-asking a malformed one, and writes it', async () => {
    const env = cleanups.newEnv();
    const tmux = await Tmux.start(`'${process.execPath}' '${cli}' configure dev; echo "rc=$?"`, {
      env: env.env,
    });
    cleanups.push(() => tmux.kill());
    for (const [question, answer] of [
      [/User pool ID: ?$/m, 'eu-west-1_AbCdEf'],
      [/App client ID: ?$/m, 'client1'],
      [/Username: ?$/m, 'alice'],
      [/Sign-in flow .*: ?$/m, ''],
      [/Identity pool ID, for AWS credentials \(Enter: none\): ?$/m, 'eu-west-1:not-a-uuid'],
    ] as const) {
      await tmux.waitFor(question);
      if (answer) await tmux.type(answer);
      await tmux.enter();
    }
    await tmux.waitFor(/is not an identity pool ID like/);
    await tmux.waitFor(/Identity pool ID, for AWS credentials \(Enter: none\): ?$/m);
    await tmux.type(POOL);
    await tmux.enter();
    await tmux.waitFor(/rc=0/);
    const profile = parseConfig(readFileSync(env.configFile, 'utf8'), env.configFile).profiles.get('dev');
    expect(profile).toMatchObject({ identityPoolId: POOL, awsCredentialsMinValid: 900 });
  });

  it('takes --identity-pool-id, --role-arn and --identity-endpoint as flags, checking each', async () => {
    const env = cleanups.newEnv();
    const base = [
      'configure',
      'dev',
      '--user-pool-id',
      'eu-west-1_AbCdEf',
      '--client-id',
      'c1',
      '--username',
      'u',
    ];
    const bad = await env.run([...base, '--identity-pool-id', 'nope', '--no-input']);
    expect(bad.code).toBe(ExitStatus.usage);
    expect(bad.stderr).toMatch(/identity_pool_id = "nope" is not an identity pool ID/);
    const insecure = await env.run([...base, '--identity-endpoint', 'http://example.com', '--no-input']);
    expect(insecure.code).toBe(ExitStatus.usage);
    const ok = await env.run([
      ...base,
      '--identity-pool-id',
      POOL,
      '--role-arn',
      'arn:aws:iam::123456789012:role/Developer',
      '--identity-endpoint',
      'http://127.0.0.1:4567',
      '--no-input',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const profile = parseConfig(readFileSync(env.configFile, 'utf8'), env.configFile).profiles.get('dev');
    expect(profile).toMatchObject({
      identityPoolId: POOL,
      roleArn: 'arn:aws:iam::123456789012:role/Developer',
      identityEndpoint: 'http://127.0.0.1:4567',
    });
  });
});
