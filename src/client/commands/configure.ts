/** `cog-token configure <profile>`: write a profile to config.toml (configure.ts), or remove one. */
import { CogTokenError } from '../../shared/errors.js';
import { resolvePaths } from '../../shared/paths.js';
import { answersFromFlags, configureOptions, configureProfile, deleteProfile } from '../configure.js';
import { profileArg } from '../get/arg-checks.js';
import { defineCommand } from '../get/runner.js';
import { say } from '../get/say.js';

/** stdin whole, without its trailing newline: where `--client-secret -` reads the secret. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The flags other than --delete and --yes that were given (they cannot go with --delete). */
function editFlags(argv: readonly string[]): string[] {
  return argv.filter((a) => a.startsWith('--') && !/^--(delete|yes|no-input|input)(=|$)/.test(a));
}

export const configure = defineCommand({
  command: 'configure <profile>',
  describe:
    'write a profile to config.toml (asks for what the flags do not give), keeping the rest of the file; --unset KEY, --delete',
  builder: (y) =>
    configureOptions(y.positional('profile', { type: 'string', demandOption: true })).option('input', {
      type: 'boolean',
      default: true,
      describe: 'ask on the terminal for what is missing (--no-input: fail instead)',
    }),
  handler: async (args, argv) => {
    const profile = profileArg(args.profile);
    const file = resolvePaths().configFile;
    const input = args.input !== false;
    if (args.delete) {
      const extra = editFlags(argv);
      if (extra.length > 0) {
        throw new CogTokenError('usage', {
          where: `configure ${profile} --delete`,
          problem: `${extra.join(' ')} cannot go with --delete`,
          remedy: `run: cog-token configure ${profile} --delete`,
        });
      }
      const removed = await deleteProfile(profile, { file, input, yes: args.yes === true });
      say(
        removed ? `profile ${profile} removed from ${file}` : `profile ${profile} kept (nothing was written)`,
      );
      return undefined;
    }
    const given = answersFromFlags(args);
    if (given.clientSecret !== undefined) {
      // A secret on the command line is in the process list for every user to read.
      if (given.clientSecret !== '-') {
        throw new CogTokenError('usage', {
          where: `configure ${profile}`,
          profile,
          problem: '--client-secret takes "-" and reads the secret from stdin (ps shows every argument)',
          remedy: `run: cog-token configure ${profile} --client-secret - < file-with-the-secret, or use --client-secret-command`,
        });
      }
      given.clientSecret = await readStdin();
    }
    const r = await configureProfile(profile, given, {
      file,
      input,
      addHosts: ((args['add-host'] as unknown[] | undefined) ?? []).map(String),
      unset: ((args.unset as unknown[] | undefined) ?? []).map(String),
    });
    const where =
      r.profile.userPoolId !== undefined
        ? `pool ${r.profile.userPoolId} in ${r.profile.region}`
        : `domain ${r.profile.domain}`;
    const what = `(${where}, ${r.profile.authFlow})`;
    if (r.created) {
      say(`profile ${profile} added to ${r.file} ${what}: run: cog-token login ${profile}`);
    } else if (r.changed.length === 0) {
      say(`profile ${profile} unchanged in ${r.file} (nothing was written)`);
    } else if (r.signIn) {
      say(`profile ${profile} updated in ${r.file} ${what}: run: cog-token login ${profile}`);
    } else {
      say(`profile ${profile} updated in ${r.file} (${r.changed.join(', ')}); the sign-in stays as it is`);
    }
    return undefined;
  },
});
