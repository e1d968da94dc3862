/**
 * Which profile answers for a URL: each profile's `hosts` list holds patterns like "api.example.com",
 * "*.execute-api.ap-northeast-1.amazonaws.com", "git.example.com:8443" or "git.example.com/team-a".
 * `*` stands for part of one name component (as in git's URL matching); a pattern without a port matches
 * any port; a pattern with a path matches only when git sends the path (credential.useHttpPath) and it is
 * that path or below it. The most specific pattern wins; on a tie, the profile that comes first.
 */

export interface HostPattern {
  host: string;
  port?: string;
  /** Without leading or trailing slashes; undefined for none. */
  path?: string;
}

export interface Target {
  /** As git sends it: "host" or "host:port" (IPv6 in brackets). */
  host: string;
  /** As git sends it with useHttpPath: "team-a/repo.git" (no leading slash). */
  path?: string;
}

export interface Claimant {
  name: string;
  hosts: readonly string[];
}

export type MatchResult =
  | { kind: 'match'; profile: string; pattern: string }
  /** Nothing matched, but these would have with the path: worth a hint about credential.useHttpPath. */
  | { kind: 'none'; needPath: { profile: string; pattern: string }[] };

function splitHostPort(text: string): { host: string; port?: string } {
  const v6 = /^(\[[^\]]*\])(?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1] as string, ...(v6[2] ? { port: v6[2] } : {}) };
  const m = /^(.*?)(?::(\d+))?$/.exec(text) as RegExpExecArray;
  return { host: m[1] as string, ...(m[2] ? { port: m[2] } : {}) };
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

export function parsePattern(pattern: string): HostPattern {
  const slash = pattern.indexOf('/');
  const hostPart = slash === -1 ? pattern : pattern.slice(0, slash);
  const path = slash === -1 ? '' : trimSlashes(pattern.slice(slash + 1));
  const { host, port } = splitHostPort(hostPart.toLowerCase());
  return { host, ...(port ? { port } : {}), ...(path ? { path } : {}) };
}

function labelMatches(pattern: string, label: string): boolean {
  if (!pattern.includes('*')) return pattern === label;
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[^.]*')}$`);
  return re.test(label);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('[') || host.startsWith('[')) return pattern === host;
  const p = pattern.split('.');
  const h = host.split('.');
  return p.length === h.length && p.every((label, i) => labelMatches(label, h[i] as string));
}

function pathMatches(pattern: string, path: string): boolean {
  return path === pattern || path.startsWith(`${pattern}/`);
}

/** Higher is more specific: path depth, then a port, then literal characters in the host. */
function specificity(p: HostPattern): number[] {
  return [p.path ? p.path.split('/').length : 0, p.port ? 1 : 0, p.host.replace(/\*/g, '').length];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function matchProfile(claimants: Iterable<Claimant>, target: Target): MatchResult {
  const { host, port } = splitHostPort(target.host.trim().toLowerCase());
  const path = target.path === undefined ? undefined : trimSlashes(target.path);
  let best: { profile: string; pattern: string; score: number[] } | undefined;
  const needPath: { profile: string; pattern: string }[] = [];
  for (const c of claimants) {
    for (const pattern of c.hosts) {
      const p = parsePattern(pattern);
      if (!hostMatches(p.host, host)) continue;
      if (p.port !== undefined && p.port !== port) continue;
      if (p.path !== undefined) {
        if (path === undefined) {
          needPath.push({ profile: c.name, pattern });
          continue;
        }
        if (!pathMatches(p.path, path)) continue;
      }
      const score = specificity(p);
      if (!best || compare(score, best.score) > 0) best = { profile: c.name, pattern, score };
    }
  }
  if (best) return { kind: 'match', profile: best.profile, pattern: best.pattern };
  return { kind: 'none', needPath };
}
