/**
 * The daemon's log: one line an event on stderr (a 0600 file when started on demand). Callers never pass
 * secrets; as a second line of defence anything shaped like a JWT is masked before it is written.
 */

export type Level = 'error' | 'warn' | 'info' | 'debug';
const rank: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

function levelFromEnv(): Level {
  const v = process.env.COG_TOKEN_LOG;
  return v === 'error' || v === 'warn' || v === 'info' || v === 'debug' ? v : 'info';
}

const threshold = rank[levelFromEnv()];
/** A JWT (3 parts) or JWE (5 parts, as Cognito's refresh tokens), then any lone base64url JSON segment. */
const jwtShape = /eyJ[\w-]{4,}(?:\.[\w-]*){2,4}/g;
const segmentShape = /eyJ[\w-]{16,}/g;

export function redact(text: string): string {
  return text.replace(jwtShape, '[jwt]').replace(segmentShape, '[jwt-part]');
}

function write(level: Level, message: string): void {
  if (rank[level] > threshold) return;
  try {
    process.stderr.write(`${new Date().toISOString()} ${level} ${redact(message)}\n`);
  } catch {
    // A closed stderr must not take the daemon down.
  }
}

export const log = {
  error: (message: string) => write('error', message),
  warn: (message: string) => write('warn', message),
  info: (message: string) => write('info', message),
  debug: (message: string) => write('debug', message),
  enabled: (level: Level) => rank[level] <= threshold,
};
