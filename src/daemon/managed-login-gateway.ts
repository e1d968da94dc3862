/**
 * The daemon's door to a user pool's domain (managed login, the OAuth 2.0 endpoints), as the use cases see
 * it: redeem an authorization code with its PKCE verifier, refresh through the refresh_token grant, revoke a
 * refresh token. Failures are CognitoCallErrors, classified like the API's (`rejected`: the server said no,
 * e.g. invalid_grant; `transient`: network, 5xx), so refresh and logout treat both doors alike; the adaptor
 * is http-managed-login-gateway.ts.
 */
import type { ProfileConfig } from '../shared/config.js';
import type { AuthResult } from './cognito-gateway.js';

export interface CodeExchange {
  code: string;
  /** The PKCE code_verifier whose S256 challenge went to /oauth2/authorize. */
  verifier: string;
  /** The same redirect_uri as at authorize. */
  redirectUri: string;
  /** Sent as HTTP Basic (client_secret_basic) when the app client has one. */
  clientSecret?: string;
}

export interface ManagedLoginGateway {
  /** POST <domain>/oauth2/token, grant_type=authorization_code. */
  exchangeCode(p: ProfileConfig, exchange: CodeExchange): Promise<AuthResult>;
  /** POST <domain>/oauth2/token, grant_type=refresh_token (a new refresh token only where rotation is on). */
  refresh(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<AuthResult>;
  /** POST <domain>/oauth2/revoke. */
  revoke(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<void>;
}
