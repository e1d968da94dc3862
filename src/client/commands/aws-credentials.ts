/**
 * `cog-token aws-credentials <profile> [--format json|env]`: AWS credentials of the profile's identity pool,
 * as a `credential_process` prints them (Version 1, with Expiration) or as shell exports. Nothing else on
 * stdout; a failure prints nothing there (exit status and one line on stderr, runner.ts).
 */
import { checkTimeout, profileArg } from '../get/arg-checks.js';
import { writeOut } from '../get/output.js';
import { defineCommand } from '../get/runner.js';
import { getAwsCredentials } from '../requests.js';

const awsFormats = ['json', 'env'] as const;

/** The four variables the AWS CLI and SDKs read (AWS_CREDENTIAL_EXPIRATION: ISO 8601). */
export function awsEnvironment(c: {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
}): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_SESSION_TOKEN: c.sessionToken,
    AWS_CREDENTIAL_EXPIRATION: iso8601(c.expiresAt),
  };
}

function iso8601(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export const awsCredentials = defineCommand({
  command: 'aws-credentials <profile>',
  describe: "print AWS credentials of the profile's identity pool (for credential_process)",
  builder: (y) =>
    y
      .positional('profile', { type: 'string', demandOption: true })
      .option('format', {
        choices: awsFormats,
        default: 'json' as (typeof awsFormats)[number],
        describe: 'json: credential_process output (Version 1); env: shell exports',
      })
      .option('timeout', {
        type: 'number',
        describe: 'seconds to wait for Cognito before failing with exit 5',
      })
      .option('input', {
        type: 'boolean',
        default: true,
        describe: 'ask for a password or code when a sign-in is needed (--no-input: fail instead)',
      }),
  handler: async (args) => {
    const profile = profileArg(args.profile);
    checkTimeout(args.timeout);
    const r = await getAwsCredentials(profile, {
      ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
      noInput: args.input === false,
    });
    const env = awsEnvironment(r);
    writeOut(
      1,
      args.format === 'env'
        ? Object.entries(env)
            .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
            .join('')
        : `${JSON.stringify({
            Version: 1,
            AccessKeyId: r.accessKeyId,
            SecretAccessKey: r.secretAccessKey,
            SessionToken: r.sessionToken,
            Expiration: env.AWS_CREDENTIAL_EXPIRATION,
          })}\n`,
    );
    return undefined;
  },
});
