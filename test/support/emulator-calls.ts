/** Calls straight to the emulator, past cog-token: what Cognito itself now makes of a credential. */
import {
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Emulator, Pool } from '../../src/emulator/harness.js';

/** REFRESH_TOKEN_AUTH with this refresh token (rejects with NotAuthorizedException once it is revoked). */
export function refreshAtEmulator(
  emu: Emulator,
  pool: Pool,
  refreshToken: string,
): Promise<InitiateAuthCommandOutput> {
  return emu.admin().send(
    new InitiateAuthCommand({
      ClientId: pool.clientId,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    }),
  );
}
