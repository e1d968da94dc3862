/**
 * The identity-pool gateway over the AWS SDK's Cognito Identity client, loaded on first use. GetId and
 * GetCredentialsForIdentity are unsigned calls: the client is given a credential provider that refuses, so
 * the SDK never goes looking for AWS credentials (environment, ~/.aws, instance metadata) of its own.
 */
import type { CognitoIdentity } from '@aws-sdk/client-cognito-identity';
import type { ProfileConfig } from '../shared/config.js';
import { CognitoCallError } from './cognito-gateway.js';
import {
  type AwsCredentials,
  type IdentityGateway,
  identityPoolRegion,
  loginsOf,
} from './identity-gateway.js';
import { classify } from './sdk-cognito-gateway.js';

const connectTimeoutMs = 3_000;
const requestTimeoutMs = 10_000;
const maxAttempts = 3;
const retryStartMs = 200;

type Sdk = typeof import('@aws-sdk/client-cognito-identity');

function noCredentials(): never {
  throw new Error('cog-token makes only unsigned identity-pool calls');
}

export class SdkIdentityGateway implements IdentityGateway {
  private sdk?: Promise<Sdk>;
  private readonly clients = new Map<string, CognitoIdentity>();

  private async client(p: ProfileConfig): Promise<CognitoIdentity> {
    this.sdk ??= import('@aws-sdk/client-cognito-identity');
    const sdk = await this.sdk;
    const region = identityPoolRegion(p.identityPoolId ?? '');
    const key = `${region}\0${p.identityEndpoint ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new sdk.CognitoIdentity({
        region,
        ...(p.identityEndpoint ? { endpoint: p.identityEndpoint } : {}),
        credentials: noCredentials,
        maxAttempts: 1,
        requestHandler: { connectionTimeout: connectTimeoutMs, requestTimeout: requestTimeoutMs },
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** A deadline per attempt; transient failures retried with jittered backoff, never a refusal. */
  private async call<T>(
    p: ProfileConfig,
    run: (c: CognitoIdentity, o: { abortSignal: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    const client = await this.client(p);
    let delay = retryStartMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(client, { abortSignal: AbortSignal.timeout(requestTimeoutMs + connectTimeoutMs) });
      } catch (error) {
        const e = classify(error);
        if (e.kind !== 'transient' || attempt >= maxAttempts) throw e;
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
        delay *= 2;
      }
    }
  }

  getId(p: ProfileConfig, idToken: string): Promise<string> {
    const input = { IdentityPoolId: p.identityPoolId, Logins: loginsOf(p, idToken) };
    return this.call(p, async (c, o) => {
      const out = await c.getId(input, o);
      if (!out.IdentityId)
        throw new CognitoCallError('EmptyResponse', 'transient', 'GetId gave no IdentityId');
      return out.IdentityId;
    });
  }

  getCredentials(p: ProfileConfig, identityId: string, idToken: string): Promise<AwsCredentials> {
    const input = {
      IdentityId: identityId,
      Logins: loginsOf(p, idToken),
      CustomRoleArn: p.roleArn, // undefined: not sent
    };
    return this.call(p, async (c, o) => {
      const out = await c.getCredentialsForIdentity(input, o);
      const k = out.Credentials;
      if (!k?.AccessKeyId || !k.SecretKey || !k.SessionToken || !k.Expiration) {
        const missing = 'GetCredentialsForIdentity answered without complete credentials';
        throw new CognitoCallError('EmptyResponse', 'transient', missing);
      }
      return {
        accessKeyId: k.AccessKeyId,
        secretAccessKey: k.SecretKey,
        sessionToken: k.SessionToken,
        expiresAt: Math.floor(k.Expiration.getTime() / 1000),
      };
    });
  }
}
