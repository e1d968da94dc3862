import type { Config } from '../shared/config.js';
import { humanDuration, relativeTime } from '../shared/durations.js';
import { printable } from '../shared/printable.js';
import type { DaemonStatus, ProfileStatus } from '../shared/protocol.js';

function expiry(epochSeconds: number, now: number): string {
  return epochSeconds >= now
    ? `expires ${relativeTime(epochSeconds, now)}`
    : `expired ${relativeTime(epochSeconds, now)}`;
}

function profileLines(p: ProfileStatus, now: number): string[] {
  const lines = [`profile ${p.name}: ${p.state}${p.username ? ` as ${p.username}` : ''}`];
  const row = (label: string, text: string) => lines.push(`  ${`${label}:`.padEnd(15)} ${text}`);
  if (p.dropped)
    row('tokens', `dropped (the next get ${p.state === 'signed-in' ? 'refreshes' : 'signs in'})`);
  if (p.idExpiresAt !== undefined) row('id token', expiry(p.idExpiresAt, now));
  if (p.accessExpiresAt !== undefined) row('access token', expiry(p.accessExpiresAt, now));
  if (p.issuedAt !== undefined && p.issuedAt !== p.signedInAt)
    row('refreshed', relativeTime(p.issuedAt, now));
  if (p.signedInAt !== undefined) row('signed in', relativeTime(p.signedInAt, now));
  if (p.nextRefreshAt !== undefined) row('next refresh', relativeTime(p.nextRefreshAt, now));
  if (p.refreshTokenExpiresAt !== undefined) {
    const at = p.refreshTokenExpiresAt;
    row(
      'sign-in needed',
      at > now
        ? `${relativeTime(at, now)} (the refresh token expires then): cog-token login ${p.name}`
        : `now (the refresh token expired ${relativeTime(at, now)}): cog-token login ${p.name}`,
    );
  }
  if (p.awsCredentialsExpiresAt !== undefined) {
    const at = p.awsCredentialsExpiresAt;
    row(
      'AWS credentials',
      `${expiry(at, now)} (${new Date(at * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')})`,
    );
  }
  if (p.lastError) lines.push(`  last error: ${p.lastError}`);
  return lines;
}

/** `cog-token status` for a person: durations in min/h/days, relative to `nowMs`. */
export function formatStatus(s: DaemonStatus, nowMs: number): string {
  const now = Math.floor(nowMs / 1000);
  const lines = [
    `daemon: pid ${s.pid}, version ${s.version}, up ${humanDuration(s.uptimeSeconds)}`,
    `socket: ${s.socket} (${s.peerCheck ? `peer uid checked by ${s.peerCheck}` : `peer uid not checked${s.peerCheckInactive ? ` (${s.peerCheckInactive})` : ''}: the socket permissions alone keep others out`})`,
    `config: ${s.configFile}${s.configError ? ` (error: ${s.configError})` : ''}`,
  ];
  if (s.log) lines.push(`log: ${s.log}`);
  if (s.keyLocation) lines.push(`key: ${s.keyLocation}`);
  if (s.storeError) lines.push(`store: error: ${s.storeError}`);
  for (const notice of s.notices ?? []) lines.push(`store: ${notice}`);
  if (s.profiles.length === 0) lines.push('profiles: none');
  for (const p of s.profiles) lines.push(...profileLines(p, now));
  // Names, errors and notices come from the socket: no control characters reach the terminal.
  return `${lines.map((line) => printable(line)).join('\n')}\n`;
}

/** The profiles a config file names, each with its user or why it is broken (no daemon needed). */
export function configuredProfiles(config: Config): { name: string; username?: string; error?: string }[] {
  return [
    ...[...config.profiles.values()].map((p) => ({ name: p.name, username: p.username })),
    ...[...config.broken.entries()].map(([name, e]) => ({ name, error: e.message })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
