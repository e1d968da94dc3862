import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/shared/config.js';
import { version } from '../src/shared/version.js';

const file = '/home/alice/.config/cog-token/config.toml';
const good = `
[profiles.dev]
user_pool_id = "ap-northeast-1_AbCdEf"
client_id = "1example23456789"
username = "alice"
`;

describe('config', () => {
  it('takes the region from the pool ID and fills defaults', () => {
    const p = parseConfig(good, file).profiles.get('dev');
    expect(p).toEqual({
      name: 'dev',
      region: 'ap-northeast-1',
      userPoolId: 'ap-northeast-1_AbCdEf',
      clientId: '1example23456789',
      username: 'alice',
      authFlow: 'USER_SRP_AUTH',
      token: 'id',
      refreshMargin: 300,
      rememberDevice: true,
      hosts: [],
      commandTimeout: 60,
      awsCredentialsMinValid: 900,
    });
  });

  it.each([
    ['[profiles.dev\n', /config\.toml is not valid TOML/],
    ['nonsense = 1\n', /config\.toml: unknown top-level key "nonsense"/],
    [
      good.replace('client_id = "1example23456789"\n', ''),
      /config\.toml: profile "dev": missing key "client_id"/,
    ],
    [good.replace('ap-northeast-1_AbCdEf', 'local_AbCdEf'), /profile "dev": missing key "region"/],
    [`${good}token = "refresh"\n`, /profile "dev": key "token" must be "id" or "access"/],
    [
      `${good}command_timeout = 0\n`,
      /profile "dev": key "command_timeout" must be a whole number of seconds from 1 to 3600/,
    ],
    [`${good}command_timeout = 3601\n`, /profile "dev": key "command_timeout" must be/],
    [`${good}command_timeout = 1.5\n`, /profile "dev": key "command_timeout" must be/],
    [`${good}endpoint = "ftp://x"\n`, /profile "dev": key "endpoint" .* is not an https URL/],
    [`${good}refresh_margin = -5\n`, /profile "dev": key "refresh_margin"/],
    [`${good}pasword_command = "x"\n`, /profile "dev": unknown key "pasword_command"/],
    [`${good}auth_flow = "CUSTOM_AUTH"\n`, /profile "dev": key "auth_flow" = "CUSTOM_AUTH" is not supported/],
    [`${good}client_secret = "s"\nclient_secret_command = "c"\n`, /profile "dev": keys "client_secret" and/],
    [`${good}mfa_preference = "SMS"\n`, /profile "dev": key "mfa_preference" must be one of/],
    [`${good}remember_device = "no"\n`, /profile "dev": key "remember_device" must be true or false/],
    [`${good}hosts = "api.example.com"\n`, /profile "dev": key "hosts" must be a list/],
  ])('names the file, profile and key: %#', (text, pattern) => {
    let message = '';
    try {
      const config = parseConfig(text, file);
      message = [...config.broken.values()].map((e) => e.message).join('\n');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(pattern);
  });

  it('a TOML error carries the line, the column and the offending line, on one line', () => {
    const text = `${good}token = id\n`;
    expect(() => parseConfig(text, file)).toThrow(
      `${file} is not valid TOML at line 6, column 9: invalid value (line 6: token = id): fix the file`,
    );
  });

  it('a TOML error on a line with a secret or a command shows the key, never the value', () => {
    for (const key of ['client_secret', 'password_command', 'client_secret_command']) {
      const text = `${good}${key} = "s3cr3t-value\n`;
      let message = '';
      try {
        parseConfig(text, file);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(
        new RegExp(`at line 6, column \\d+: .*\\(line 6: ${key} = \\(value not shown\\)\\): fix the file$`),
      );
      expect(message).not.toContain('s3cr3t');
    }
  });

  it('a broken profile does not take the others down', () => {
    const config = parseConfig(`${good}\n[profiles.bad]\nusername = "x"\n`, file);
    expect([...config.profiles.keys()]).toEqual(['dev']);
    expect(config.broken.get('bad')?.message).toMatch(/profile "bad": missing key "user_pool_id"/);
  });

  it('version.ts matches package.json', () => {
    expect(version).toBe(
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
    );
  });
});
