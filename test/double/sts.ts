/**
 * An STS endpoint on the Cognito test double that accepts only requests signed (AWS Signature Version 4) with
 * credentials the double's identity pools issued: `POST /` with the query-protocol form body
 * `Action=GetCallerIdentity&Version=2011-06-15`, as the AWS CLI v2 and `@aws-sdk/client-sts` send it.
 *
 * The signature is recomputed with `@smithy/signature-v4` (AWS's own signer) over exactly the headers the
 * request says it signed, with the secret the double issued for its access key; the session token must be
 * the one issued with that key, and the credentials must not have expired on the double's clock. Answers and
 * errors in STS's XML: `GetCallerIdentityResponse` (the assumed-role ARN of the identity's role, session name
 * `CognitoIdentityCredentials`), `ErrorResponse` with SignatureDoesNotMatch / InvalidClientTokenId (HTTP 403),
 * ExpiredToken / IncompleteSignature / InvalidAction (HTTP 400).
 */
import { createHash, createHmac, type Hash, type Hmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { DoubleCall } from './cognito-double.js';
import { ACCOUNT_ID, type IdentityPools, type IssuedCredentials } from './identity-pool.js';

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** The role session name Cognito identity pools give the credentials they hand out. */
const COGNITO_SESSION_NAME = 'CognitoIdentityCredentials';

/** A request the STS endpoint takes: a POST with a form body and no X-Amz-Target. */
export function isStsRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type'] ?? '';
  return (
    req.method === 'POST' &&
    req.headers['x-amz-target'] === undefined &&
    type.toLowerCase().startsWith('application/x-www-form-urlencoded')
  );
}

class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = code;
  }
}

interface StsAnswer {
  status: number;
  requestId: string;
  body: string;
  /** For the call log. */
  action: string;
  accessKeyId?: string;
  error?: string;
  message?: string;
}

/** Answers one STS request on `res`; returns the call for the double's log (never with a secret). */
export async function serveSts(
  identity: IdentityPools,
  now: number,
  req: IncomingMessage,
  text: string,
  res: ServerResponse,
  injectedFault: (op: string) => void,
): Promise<DoubleCall> {
  const answer = await answerSts(identity, now, req, text, injectedFault);
  res.writeHead(answer.status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(answer.body),
    'x-amzn-requestid': answer.requestId,
  });
  res.end(answer.body);
  return {
    op: answer.action,
    request: answer.accessKeyId ? { AccessKeyId: answer.accessKeyId } : {},
    status: answer.status,
    ...(answer.error ? { error: answer.error, message: answer.message } : {}),
  };
}

/** Verifies and answers one STS request (`text` is its body). Never throws. */
async function answerSts(
  identity: IdentityPools,
  now: number,
  req: IncomingMessage,
  text: string,
  injectedFault: (op: string) => void,
): Promise<StsAnswer> {
  const requestId = randomUUID();
  const form = new URLSearchParams(text);
  const action = form.get('Action') ?? '';
  let accessKeyId: string | undefined;
  try {
    if (action !== 'GetCallerIdentity') {
      throw new StsError(
        'InvalidAction',
        `Could not find operation ${action} for version NO_VERSION_SPECIFIED`,
        400,
      );
    }
    if (form.get('Version') !== '2011-06-15') {
      throw new StsError('InvalidAction', 'Could not find operation GetCallerIdentity for this version', 400);
    }
    const auth = parseAuthorization(req.headers.authorization);
    accessKeyId = auth.accessKeyId;
    injectedFault(action);
    const issued = identity.credentials.get(auth.accessKeyId);
    if (!issued)
      throw new StsError(
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
        403,
      );
    const token = header(req, 'x-amz-security-token');
    if (token === undefined || !same(token, issued.sessionToken)) {
      throw new StsError(
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
        403,
      );
    }
    if (now >= issued.expiresAt) {
      throw new StsError('ExpiredToken', 'The security token included in the request is expired', 400);
    }
    await checkSignature(req, text, auth, issued);
    const roleName = issued.roleArn.slice(issued.roleArn.lastIndexOf('/') + 1);
    const account = issued.roleArn.split(':')[4] || ACCOUNT_ID;
    const body =
      `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}">\n` +
      '  <GetCallerIdentityResult>\n' +
      `    <Arn>arn:aws:sts::${account}:assumed-role/${xml(roleName)}/${COGNITO_SESSION_NAME}</Arn>\n` +
      `    <UserId>${roleId(issued)}:${COGNITO_SESSION_NAME}</UserId>\n` +
      `    <Account>${account}</Account>\n` +
      '  </GetCallerIdentityResult>\n' +
      '  <ResponseMetadata>\n' +
      `    <RequestId>${requestId}</RequestId>\n` +
      '  </ResponseMetadata>\n' +
      '</GetCallerIdentityResponse>\n';
    return { status: 200, requestId, body, action, accessKeyId };
  } catch (caught) {
    const error =
      caught instanceof StsError
        ? caught
        : caught instanceof Error && 'type' in caught && typeof caught.type === 'string'
          ? new StsError(caught.type, caught.message, caught.type === 'InternalErrorException' ? 500 : 400)
          : new StsError('InternalFailure', `double bug: ${String(caught)}`, 500);
    const body =
      `<ErrorResponse xmlns="${STS_NAMESPACE}">\n` +
      '  <Error>\n' +
      `    <Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type>\n` +
      `    <Code>${xml(error.code)}</Code>\n` +
      `    <Message>${xml(error.message)}</Message>\n` +
      '  </Error>\n' +
      `  <RequestId>${requestId}</RequestId>\n` +
      '</ErrorResponse>\n';
    return {
      status: error.status,
      requestId,
      body,
      action,
      ...(accessKeyId ? { accessKeyId } : {}),
      error: error.code,
      message: error.message,
    };
  }
}

interface Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

function parseAuthorization(value: string | undefined): Authorization {
  if (value === undefined) {
    throw new StsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
  }
  const m = AUTH.exec(value.trim());
  if (!m) {
    throw new StsError(
      'IncompleteSignature',
      'Authorization header requires a valid AWS4-HMAC-SHA256 signature.',
      400,
    );
  }
  return {
    accessKeyId: m[1] as string,
    date: m[2] as string,
    region: m[3] as string,
    service: m[4] as string,
    signedHeaders: (m[5] as string).split(';'),
    signature: m[6] as string,
  };
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

async function checkSignature(
  req: IncomingMessage,
  text: string,
  auth: Authorization,
  issued: IssuedCredentials,
): Promise<void> {
  if (auth.service !== 'sts')
    throw new StsError(
      'SignatureDoesNotMatch',
      `Credential should be scoped to correct service: 'sts'.`,
      403,
    );
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required)) {
      throw new StsError('SignatureDoesNotMatch', `Signed headers must include ${required}.`, 403);
    }
  }
  const amzDate = header(req, 'x-amz-date') ?? '';
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || amzDate.slice(0, 8) !== auth.date) {
    throw new StsError(
      'IncompleteSignature',
      'Date in Credential scope does not match YYYYMMDD from X-Amz-Date.',
      400,
    );
  }
  // Signatures are valid for 15 minutes either side of the server's (real) time, as AWS enforces.
  if (Math.abs(Date.now() - signingDate.getTime()) > 15 * 60 * 1000) {
    throw new StsError(
      'SignatureDoesNotMatch',
      `Signature expired: ${amzDate} is outside the allowed 15 minutes.`,
      403,
    );
  }
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = header(req, name);
    if (value === undefined) throw new StsError('SignatureDoesNotMatch', SIGNATURE_MISMATCH, 403);
    headers[name] = value;
  }
  const url = new URL(req.url ?? '/', 'http://double');
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const prior = query[key];
    query[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretKey,
      sessionToken: issued.sessionToken,
    },
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: url.pathname,
      query,
      headers,
      body: text,
    },
    {
      signingDate,
      signingRegion: auth.region,
      signingService: auth.service,
      signableHeaders: new Set(auth.signedHeaders),
    },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
  const expectedList = /SignedHeaders=([^,]+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
  if (expectedList !== auth.signedHeaders.join(';') || !same(expected, auth.signature)) {
    throw new StsError('SignatureDoesNotMatch', SIGNATURE_MISMATCH, 403);
  }
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A stable role ID (`AROA…`) per role ARN, as IAM gives each role one. */
function roleId(issued: IssuedCredentials): string {
  const digest = createHash('sha256').update(issued.roleArn).digest();
  let out = 'AROA';
  for (const byte of digest.subarray(0, 17)) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[byte % 32];
  return out;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** SHA-256 / HMAC-SHA-256 from node:crypto in the shape `@smithy/signature-v4` takes (`new (secret?)`). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key =
      typeof this.secret === 'string'
        ? Buffer.from(this.secret, 'utf8')
        : ArrayBuffer.isView(this.secret)
          ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
          : Buffer.from(this.secret);
    return createHmac('sha256', key);
  }
  update(data: string | Uint8Array): void {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
}
