/** MFA_SETUP for an authenticator app: show the secret as an otpauth:// URI and a QR code, verify a code. */
import { cognitoError } from '../cognito-errors.js';
import type { AuthStep, Challenge } from '../cognito-gateway.js';
import { type Flow, parseList, unexpected, unsupported, untilCodeTaken } from './flow.js';

export async function setUpTotp(flow: Flow, step: Challenge): Promise<AuthStep> {
  const { p, gateway } = flow.ctx;
  const canSetUp = parseList(step.parameters.MFAS_CAN_SETUP);
  if (canSetUp.length > 0 && !canSetUp.includes('SOFTWARE_TOKEN_MFA')) {
    throw unsupported(
      p,
      `MFA_SETUP for ${canSetUp.join(', ')} (only an authenticator app can be set up here)`,
    );
  }
  if (!step.session) throw unexpected(p, 'MFA_SETUP without a session');
  let associated: { secretCode: string; session?: string };
  try {
    associated = await gateway.associateSoftwareToken(p, step.session);
  } catch (error) {
    throw cognitoError(p, 'sign-in', error);
  }
  const issuer = `cog-token ${p.name}`;
  const uri = `otpauth://totp/${encodeURIComponent(`${issuer}:${p.username}`)}?secret=${associated.secretCode}&issuer=${encodeURIComponent(issuer)}`;
  const qrcode = await import('qrcode');
  // Block characters only, no colour escapes (the client strips escape sequences from what it shows): light
  // modules drawn in the terminal's foreground, for the usual light-on-dark terminal.
  const qr = await qrcode.toString(uri, {
    type: 'utf8',
    margin: 2,
    color: { dark: '#ffffff', light: '#000000' },
  });
  const session = associated.session ?? step.session;
  const verified = await untilCodeTaken(
    flow,
    {
      question: 'mfa-setup',
      challenge: step.name,
      display: `Cognito requires an authenticator app for ${p.username}. Scan this QR code, or add this URI:\n${uri}\n${qr}`,
      prompt: `First code from the authenticator app (cog-token profile ${p.name}): `,
    },
    (code) => gateway.verifySoftwareToken(p, session, code),
    (error) => cognitoError(p, 'sign-in', error),
  );
  return flow.respond({ name: step.name, session: verified.session ?? session }, { kind: 'totp-verified' });
}
