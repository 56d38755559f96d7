#!/usr/bin/env -S node --openssl-legacy-provider
'use strict';
// Runs s3rver 3.7.1 for deltaglider's end-to-end tests on 127.0.0.1 and
// prints "READY <port>" on stdout once it listens.
//
//   node --openssl-legacy-provider s3rver.js --dir DIR [--port N]
//       [--https KEY CERT] [--bucket NAME]... [--region REGION]
//       [--allow-chunked] [--no-verify]
//
// --port 0 (the default) lets the kernel pick a free port. Credentials are
// s3rver's built-in S3RVER / S3RVER; the region defaults to us-east-1.
//
// s3rver only verifies SigV2: for SigV4 it checks that the access key exists
// and nothing else, and it lets anonymous requests do anything. A client that
// signs wrongly would pass against it, so unless --no-verify is given, requests
// are first checked here the way AWS S3 checks them, and refused with S3's
// error codes: anonymous requests, bad SigV4 signatures (header or presigned
// URL), presigned URLs that have expired, are not valid yet or have a bad
// X-Amz-Expires, unsigned host or x-amz-* headers, a wrong region or
// credential scope, a body that does not match x-amz-content-sha256 or
// Content-MD5, aws-chunked bodies (s3rver would store the chunk framing as
// data) and, unless --allow-chunked, Transfer-Encoding: chunked (S3 answers
// 501 to it).
//
// Always on, because s3rver gets them wrong: multipart upload checks and
// AbortMultipartUpload, byte ranges, copy sources, conditional writes
// (If-None-Match: *), and the fixes marked below.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { PassThrough, Readable, Transform } = require('stream');
const { pipeline } = require('stream/promises');

// s3rver parses DeleteObjects and CompleteMultipartUpload bodies with
// fast-xml-parser's defaults, which turn a key such as "007" or "true" into a
// number or boolean (then a 500 InternalError) and trim spaces off keys.
// Its bucket-config models ask for parseNodeValue explicitly and keep it.
const fromS3rver = name =>
  require(require.resolve(name, { paths: [path.dirname(require.resolve('s3rver'))] }));
const xmlParser = fromS3rver('fast-xml-parser');
const xmlParse = xmlParser.parse;
xmlParser.parse = (xml, options = {}, validate) =>
  xmlParse(xml, { parseNodeValue: false, trimValues: false, ...options }, validate);

const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');
const S3Error = require('s3rver/lib/models/error');
const S3Object = require('s3rver/lib/models/object');

// s3rver escapes error bodies as HTML, so a non-ASCII key comes back as e.g.
// &eacute;, which XML parsers reject. Escape only what XML needs, as its
// success bodies do.
const he = fromS3rver('he');
S3Error.prototype.toXML = function toXML() {
  const parser = new xmlParser.j2xParser({ tagValueProcessor: a => he.escape(a.toString()) });
  const body = parser.parse({ Error: { Code: this.code, Message: this.message, ...this.detail } });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
};

function usage(msg) {
  process.stderr.write(`s3rver.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 0, buckets: [], region: 'us-east-1', verify: true, allowChunked: false };
  for (let i = 0; i < argv.length; i++) {
    const need = n => {
      if (i + n >= argv.length) usage(`${argv[i]} needs ${n} argument(s)`);
      return argv.slice(i + 1, (i += n) + 1);
    };
    switch (argv[i]) {
      case '--dir': [opts.dir] = need(1); break;
      case '--port': opts.port = Number(need(1)[0]); break;
      case '--https': [opts.key, opts.cert] = need(2); break;
      case '--bucket': opts.buckets.push(need(1)[0]); break;
      case '--region': [opts.region] = need(1); break;
      case '--allow-chunked': opts.allowChunked = true; break;
      case '--no-verify': opts.verify = false; break;
      default: usage(`unknown argument ${argv[i]}`);
    }
  }
  if (!opts.dir) usage('--dir is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  return opts;
}

function s3error(code, message, detail, status) {
  const err = new S3Error(code, message, detail);
  if (status) err.status = status;
  return err;
}

// SigV4 canonical form: everything but A-Za-z0-9-_.~ percent-encoded.
function uriEncode(s) {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function uriDecode(s, plusIsSpace) {
  if (plusIsSpace) s = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(s);
  } catch (e) {
    throw s3error('InvalidURI', "Couldn't parse the specified URI.", {}, 400);
  }
}

// The bucket and key of a path-style object URL, or null.
function objectTarget(ctx) {
  const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  return m && { bucket: uriDecode(m[1], false), key: uriDecode(m[2], false) };
}

// s3rver reads request bodies from ctx.req, so after reading one here it gets
// a replay of the same bytes; ctx.request still wraps the real request.
async function bufferBody(ctx) {
  if (ctx.state.body) return ctx.state.body;
  const body = await new Promise((resolve, reject) => {
    const chunks = [];
    ctx.req.on('data', c => chunks.push(c));
    ctx.req.on('end', () => resolve(Buffer.concat(chunks)));
    ctx.req.on('error', reject);
  });
  const replay = new PassThrough();
  replay.headers = ctx.req.headers;
  replay.end(body);
  ctx.req = replay;
  ctx.state.body = body;
  return body;
}

// ---------------------------------------------------------------- SigV4

const sha256 = data => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const AMZ_DATE = /^\d{8}T\d{6}Z$/;
const MAX_PRESIGN_EXPIRES = 604800; // seconds: a week
const MAX_SKEW_MS = 15 * 60 * 1000;

// An X-Amz-Date (YYYYMMDDTHHMMSSZ) as a Date; invalid if it names no time.
function amzDateTime(amzDate) {
  const [, y, mo, d, h, mi, sec] = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate);
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}Z`);
}

const isoSeconds = date => date.toISOString().replace(/\.\d+/, '');

// A presigned URL's lifetime, checked as S3 checks it before the signature:
// X-Amz-Expires is required and 1..604800 seconds (400), and the URL works
// from X-Amz-Date (less 15 minutes of clock skew) until X-Amz-Date +
// X-Amz-Expires (403 once expired). s3rver's own check lets a negative or
// non-numeric X-Amz-Expires through, the latter never expiring.
function checkPresignedTime(query, requestTime) {
  const paramError = message => s3error('AuthorizationQueryParametersError', message, {}, 400);
  const expiresText = query['X-Amz-Expires'];
  if (expiresText === undefined) {
    throw paramError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, ' +
        'X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, ' +
        'and X-Amz-Expires parameters.',
    );
  }
  if (typeof expiresText !== 'string' || !/^-?\d+$/.test(expiresText)) {
    throw paramError('X-Amz-Expires should be a number');
  }
  const expires = Number(expiresText);
  if (expires < 1) throw paramError('X-Amz-Expires must be non-negative');
  if (expires > MAX_PRESIGN_EXPIRES) {
    throw paramError(
      `X-Amz-Expires must be less than a week (in seconds) that is; ${MAX_PRESIGN_EXPIRES}`,
    );
  }
  const now = new Date();
  if (requestTime - now > MAX_SKEW_MS) {
    throw s3error('AccessDenied', 'Request is not valid yet', {
      'X-Amz-Date': query['X-Amz-Date'],
      ServerTime: isoSeconds(now),
    });
  }
  const expiresAt = new Date(requestTime.getTime() + expires * 1000);
  if (now > expiresAt) {
    throw s3error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expiresText,
      Expires: isoSeconds(expiresAt),
      ServerTime: isoSeconds(now),
    });
  }
}

// Decoding then re-encoding makes the canonical form independent of which
// optional escapes the client used; '+' in a query means space, as s3rver
// (Node's querystring) reads it.
function canonicalQuery(rawQuery, skip) {
  return rawQuery
    .split('&')
    .filter(Boolean)
    .map(p => {
      const eq = p.indexOf('=');
      const name = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? '' : p.slice(eq + 1);
      return [uriEncode(uriDecode(name, true)), uriEncode(uriDecode(value, true))];
    })
    .filter(([name]) => name !== skip)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

// Built from rawHeaders because req.headers joins repeats with ', ' where
// SigV4 wants ','. Node reads header bytes as latin1; the client signed the
// bytes, which for non-ASCII values means UTF-8.
function headerValues(req) {
  const map = new Map();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = Buffer.from(req.rawHeaders[i + 1], 'latin1')
      .toString('utf8')
      .trim()
      .replace(/\s+/g, ' ');
    map.set(name, map.has(name) ? `${map.get(name)},${value}` : value);
  }
  return map;
}

function parseAuthorization(header) {
  const sp = header.indexOf(' ');
  const algorithm = sp < 0 ? header : header.slice(0, sp);
  if (algorithm !== 'AWS4-HMAC-SHA256') return { algorithm };
  const fields = {};
  for (const part of header.slice(sp + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!fields[name]) {
      throw s3error(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; missing ${name}.`,
      );
    }
  }
  return { algorithm, ...fields };
}

// The signing inputs of a SigV4 request, or null for what s3rver itself
// handles (SigV2, and malformed presigned URLs, which it reports).
function signingInputs(ctx) {
  const authHeader = ctx.get('Authorization');
  if ('X-Amz-Algorithm' in ctx.query) {
    if (authHeader) return null; // s3rver refuses two auth mechanisms
    const q = ctx.query;
    if (q['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') return null;
    if (!q['X-Amz-Credential'] || !q['X-Amz-SignedHeaders'] || !q['X-Amz-Signature']) return null;
    if (!AMZ_DATE.test(q['X-Amz-Date'] || '')) return null;
    const requestTime = amzDateTime(q['X-Amz-Date']);
    if (isNaN(requestTime)) return null;
    checkPresignedTime(q, requestTime);
    return {
      credential: q['X-Amz-Credential'],
      signedHeaders: q['X-Amz-SignedHeaders'],
      signature: q['X-Amz-Signature'],
      amzDate: q['X-Amz-Date'],
      payloadHash: 'UNSIGNED-PAYLOAD',
      presigned: true,
    };
  }
  if (!authHeader) {
    if ('Signature' in ctx.query) return null; // SigV2 URL
    throw s3error('AccessDenied', 'Access Denied');
  }
  const auth = parseAuthorization(authHeader);
  if (auth.algorithm === 'AWS') return null; // SigV2
  if (auth.algorithm !== 'AWS4-HMAC-SHA256') {
    throw s3error('InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authHeader,
    });
  }
  const amzDate = ctx.get('x-amz-date');
  if (!AMZ_DATE.test(amzDate)) {
    throw s3error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  const payloadHash = ctx.get('x-amz-content-sha256');
  if (!payloadHash) {
    throw s3error(
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    );
  }
  if (/^STREAMING-/.test(payloadHash)) {
    throw s3error(
      'NotImplemented',
      'aws-chunked payloads are not supported by this test server ' +
        '(s3rver would store the chunk framing as object data)',
      { Header: 'x-amz-content-sha256' },
    );
  }
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(payloadHash)) {
    throw s3error(
      'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, ' +
        'STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.',
      { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash },
    );
  }
  return {
    credential: auth.Credential,
    signedHeaders: auth.SignedHeaders,
    signature: auth.Signature,
    amzDate,
    payloadHash,
    presigned: false,
  };
}

function checkScope(scope, amzDate, region) {
  if (scope.length !== 5 || scope[3] !== 's3' || scope[4] !== 'aws4_request') {
    throw s3error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the Credential is mal-formed; ' +
        'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  if (scope[1] !== amzDate.slice(0, 8)) {
    throw s3error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; Invalid credential date. ' +
        'Date is not the same as X-Amz-Date.',
    );
  }
  if (scope[2] !== region) {
    throw s3error(
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; the region '${scope[2]}' is wrong; ` +
        `expecting '${region}'`,
      { Region: region },
    );
  }
}

async function checkBody(ctx, payloadHash) {
  const contentMD5 = ctx.get('Content-MD5');
  if (payloadHash === 'UNSIGNED-PAYLOAD' && !contentMD5) return;
  const body = await bufferBody(ctx);
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && sha256(body) !== payloadHash) {
    throw s3error(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      { ClientComputedContentSHA256: payloadHash, S3ComputedContentSHA256: sha256(body) },
      400,
    );
  }
  if (contentMD5) {
    const digest = Buffer.from(contentMD5, 'base64');
    if (digest.length !== 16 || digest.toString('base64') !== contentMD5) {
      throw s3error('InvalidDigest', 'The Content-MD5 you specified was invalid.', {
        'Content-MD5': contentMD5,
      });
    }
    const actual = crypto.createHash('md5').update(body).digest('base64');
    if (actual !== contentMD5) {
      throw s3error(
        'BadDigest',
        'The Content-MD5 you specified did not match what we received.',
        { ExpectedDigest: contentMD5, CalculatedDigest: actual },
      );
    }
  }
}

function verifyRequests({ region, allowChunked }) {
  return async function verify(ctx, next) {
    if (ctx.method === 'OPTIONS') return next(); // CORS preflight is never signed
    const inputs = signingInputs(ctx);
    if (!inputs) return next();
    const { credential, signedHeaders, signature, amzDate, payloadHash, presigned } = inputs;

    const scope = credential.split('/');
    const account = AWSAccount.registry.get(scope[0]);
    if (!account) {
      throw s3error(
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
        { AWSAccessKeyId: scope[0] },
      );
    }
    checkScope(scope, amzDate, region);

    const headers = headerValues(ctx.req);
    const signedList = signedHeaders.split(';');
    const unsigned = [...headers.keys()].filter(
      h => (h === 'host' || h.startsWith('x-amz-')) && !signedList.includes(h),
    );
    if (unsigned.length) {
      throw s3error(
        'AccessDenied',
        'There were headers present in the request which were not signed',
        { HeadersNotSigned: unsigned.join(', ') },
      );
    }

    const url = ctx.originalUrl;
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const canonicalRequest = [
      ctx.method,
      rawPath.split('/').map(seg => uriEncode(uriDecode(seg, false))).join('/'),
      canonicalQuery(q < 0 ? '' : url.slice(q + 1), presigned ? 'X-Amz-Signature' : null),
      ...signedList.map(h => `${h}:${headers.has(h) ? headers.get(h) : ''}`),
      '',
      signedHeaders,
      payloadHash,
    ].join('\n');
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      scope.slice(1).join('/'),
      sha256(canonicalRequest),
    ].join('\n');
    let key = 'AWS4' + account.accessKeys.get(scope[0]);
    for (const part of scope.slice(1)) key = hmac(key, part);
    if (hmac(key, stringToSign).toString('hex') !== signature) {
      throw s3error(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature ' +
          'you provided. Check your key and signing method.',
        {
          AWSAccessKeyId: scope[0],
          StringToSign: stringToSign,
          SignatureProvided: signature,
          CanonicalRequest: canonicalRequest,
        },
      );
    }

    if (!allowChunked && /chunked/i.test(ctx.get('Transfer-Encoding'))) {
      throw s3error(
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
        { Header: 'Transfer-Encoding' },
      );
    }
    await checkBody(ctx, payloadHash);
    return next();
  };
}

// ------------------------------------------------------------ multipart

const MIN_PART_SIZE = 5 * 1024 * 1024;

function noSuchUpload(uploadId) {
  return s3error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or ' +
      'the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}

function checkCompleteParts(dir, uploadId, xml) {
  const doc = xmlParser.parse(xml);
  const parts = [].concat((doc.CompleteMultipartUpload || {}).Part || []);
  const numbers = parts.map(part => Number(part.PartNumber));
  const etags = parts.map(part => String(part.ETag || '').replace(/"/g, '').trim());
  if (numbers.some((n, i) => !(n > (i ? numbers[i - 1] : 0)))) {
    throw s3error(
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
      { UploadId: uploadId },
    );
  }
  for (const [i, number] of numbers.entries()) {
    const md5File = path.join(dir, `${number}.md5`);
    if (!fs.existsSync(md5File) || fs.readFileSync(md5File, 'utf8') !== etags[i]) {
      throw s3error(
        'InvalidPart',
        'One or more of the specified parts could not be found. The part may ' +
          'not have been uploaded, or the specified entity tag may not have ' +
          "matched the part's entity tag.",
        { UploadId: uploadId, PartNumber: number, ETag: etags[i] },
      );
    }
  }
  for (const [i, number] of numbers.slice(0, -1).entries()) {
    const size = fs.statSync(path.join(dir, String(number))).size;
    if (size < MIN_PART_SIZE) {
      throw s3error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
        ProposedSize: size,
        MinSizeAllowed: MIN_PART_SIZE,
        PartNumber: number,
        ETag: etags[i],
      });
    }
  }
}

// s3rver accepts parts and completions for any upload ID, never compares
// ETags or sizes, crashes when a completion names a part that was never
// uploaded, and answers AbortMultipartUpload with 405.
function multipart(store) {
  return async function checkMultipart(ctx, next) {
    const uploadId = ctx.query.uploadId;
    const target = objectTarget(ctx);
    if (uploadId === undefined || !target || ctx.method === 'GET') return next();
    if (!(await store.getBucket(target.bucket))) return next(); // s3rver: NoSuchBucket
    // s3rver keeps an upload in <bucket>/._S3rver_uploads/<id>/, with the
    // object key in "key" and each part in "<n>" and "<n>.md5".
    const dir = path.join(store.getResourcePath(target.bucket, undefined, 'uploads'), uploadId);
    const keyFile = path.join(dir, 'key');
    if (
      !/^[0-9a-f]{32}$/.test(uploadId) ||
      !fs.existsSync(keyFile) ||
      fs.readFileSync(keyFile, 'utf8') !== target.key
    ) {
      throw noSuchUpload(uploadId);
    }
    if (ctx.method === 'DELETE') {
      fs.rmSync(dir, { recursive: true, force: true });
      ctx.status = 204;
      return undefined;
    }
    if (ctx.method === 'POST') {
      const xml = (await bufferBody(ctx)).toString('utf8');
      if (xmlParser.validate(xml) === true) checkCompleteParts(dir, uploadId, xml);
    }
    return next();
  };
}

// Stream content into file; its size and MD5 (hex) once it is on disk.
async function writeMeasured(content, file) {
  const md5 = crypto.createHash('md5');
  let size = 0;
  const measure = new Transform({
    transform(chunk, encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(content, measure, fs.createWriteStream(file));
  return { size, md5: md5.digest('hex') };
}

// s3rver answers UploadPart once the data has gone through its MD5 stream,
// not once it is on disk, so a quick CompleteMultipartUpload can see a short
// part. Same code, but waiting for the file to be written.
async function putPart(bucket, uploadId, partNumber, content) {
  const file = path.join(
    this.getResourcePath(bucket, undefined, 'uploads'),
    uploadId,
    String(partNumber),
  );
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const written = await writeMeasured(content, file);
  await fs.promises.writeFile(`${file}.md5`, written.md5);
  return written;
}

// --------------------------------------------------------------- ranges

// s3rver reads "bytes=-N" (the last N bytes) as "bytes=0-N", so every valid
// single range is rewritten here to first-last form. Like S3, a Range header
// that does not parse, or asks for several ranges, is ignored.
function ranges(store) {
  return async function fixRange(ctx, next) {
    const range = ctx.get('Range');
    const target = objectTarget(ctx);
    if (!range || !target || !['GET', 'HEAD'].includes(ctx.method)) return next();
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!m || (m[1] === '' && m[2] === '') || (m[1] && m[2] && Number(m[2]) < Number(m[1]))) {
      delete ctx.headers.range;
      return next();
    }
    let size;
    try {
      size = Number((await store.getMetadata(target.bucket, target.key))['content-length']);
    } catch (err) {
      return next(); // s3rver reports NoSuchKey/NoSuchBucket
    }
    const [start, end] =
      m[1] === ''
        ? [Math.max(0, size - Number(m[2])), Number(m[2]) > 0 ? size - 1 : -1]
        : [Number(m[1]), m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)];
    if (start >= size || end < start) {
      throw s3error('InvalidRange', 'The requested range is not satisfiable', {
        RangeRequested: range,
        ActualObjectSize: size,
      });
    }
    ctx.headers.range = `bytes=${start}-${end}`;
    return next();
  };
}

// s3rver's store also reads a range that ends at byte 0 ("bytes=0-0") as
// running to the end of the object. Same code, with that fixed.
async function getObject(bucket, key, options) {
  let metadata;
  try {
    metadata = await this.getMetadata(bucket, key);
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
  const object = new S3Object(bucket, key, null, metadata);
  const last = Math.max(0, object.size - 1);
  let range = { start: 0, end: last };
  if (options && (options.start !== undefined || options.end !== undefined)) {
    range = { start: options.start || 0, end: Math.min(options.end ?? Infinity, last) };
    object.range = range;
    if (range.start < 0 || range.end < range.start) return object; // unsatisfiable
  }
  object.content = await new Promise((resolve, reject) => {
    const stream = fs
      .createReadStream(this.getResourcePath(bucket, key, 'object'), range)
      .on('error', reject)
      .on('open', () => resolve(stream));
  }).catch(err => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  return object.content ? object : null;
}

// ----------------------------------------------------------- copy source

// s3rver decodes x-amz-copy-source with decodeURI, which leaves %26, %2B,
// %3D and the other reserved escapes in place, so a source key containing
// & + = ; , etc. is not found. Re-encode the header so decodeURI restores
// the key exactly.
function copySource(ctx, next) {
  const source = ctx.get('x-amz-copy-source');
  if (source) ctx.headers['x-amz-copy-source'] = encodeURI(uriDecode(source, false));
  return next();
}

// s3rver writes an object's bytes in place, then its metadata, so a reader
// can see half an object, or one without its metadata (S3 never shows
// either). Same code, staged: bytes, checksum and metadata go to temporary
// files (which listings skip: they do not end in ._S3rver_object) and are
// renamed into place in one tick, metadata first, so a reader sees the whole
// old object or the whole new one.
async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  const metadataPath = this.getResourcePath(object.bucket, object.key, 'metadata.json');
  const md5Path = this.getResourcePath(object.bucket, object.key, 'object.md5');
  const tmp = `.${crypto.randomBytes(8).toString('hex')}.tmp`;
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const content = Buffer.isBuffer(object.content)
    ? Readable.from([object.content])
    : object.content;
  const json = {};
  for (const [name, value] of Object.entries(object.metadata)) {
    if (S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')) {
      json[name] = value;
    }
  }
  try {
    const written = await writeMeasured(content, objectPath + tmp);
    await fs.promises.writeFile(md5Path + tmp, written.md5);
    await fs.promises.writeFile(metadataPath + tmp, JSON.stringify(json, null, 2));
    fs.renameSync(metadataPath + tmp, metadataPath);
    fs.renameSync(md5Path + tmp, md5Path);
    fs.renameSync(objectPath + tmp, objectPath);
    return written;
  } finally {
    for (const f of [objectPath, md5Path, metadataPath]) fs.rmSync(f + tmp, { force: true });
  }
}

// s3rver removes the directories a delete leaves empty; a PUT into the same
// directory at that moment loses its file mid-write, and the unhandled
// stream error kills the server. Same delete, without the cleanup (empty
// directories hold no keys, so listings are unchanged).
async function deleteObject(bucket, key) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map(kind =>
      fs.promises.unlink(this.getResourcePath(bucket, key, kind)).catch(err => {
        if (err.code !== 'ENOENT') throw err;
      }),
    ),
  );
}

// ------------------------------------------------------ conditional writes

// s3rver ignores If-None-Match. AWS answers 412 PreconditionFailed when a
// create-only PutObject or CompleteMultipartUpload finds the key there, and
// of two such writes racing exactly one succeeds. The check and the write run
// under a lock per key, so creates racing here behave as on AWS.
function conditionalWrites(store) {
  const locks = new Map();
  return async function createOnly(ctx, next) {
    const target = objectTarget(ctx);
    const creating =
      target &&
      ctx.get('If-None-Match') === '*' &&
      (ctx.method === 'PUT' || (ctx.method === 'POST' && 'uploadId' in ctx.query)) &&
      !('partNumber' in ctx.query);
    if (!creating) return next();
    const id = `${target.bucket}/${target.key}`;
    const before = locks.get(id) || Promise.resolve();
    let release;
    const mine = new Promise(resolve => (release = resolve));
    const chained = before.then(() => mine);
    locks.set(id, chained);
    await before;
    try {
      let exists = true;
      try {
        await store.getMetadata(target.bucket, target.key);
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
        exists = false;
      }
      if (exists) {
        throw s3error(
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          { Condition: 'If-None-Match' },
          412,
        );
      }
      return await next();
    } finally {
      release();
      if (locks.get(id) === chained) locks.delete(id);
    }
  };
}

// ----------------------------------------------------------------- main

// s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3
// only has in its legacy provider; without it every truncated listing is a
// 500 InternalError.
function checkDES() {
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch (e) {
    usage('DES is unavailable; run node with --openssl-legacy-provider');
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  checkDES();
  fs.mkdirSync(opts.dir, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port,
    directory: opts.dir,
    silent: true,
    // Path-style only: a Host that is not an IP or localhost would otherwise
    // be taken as a bucket name.
    vhostBuckets: false,
    key: opts.key && fs.readFileSync(opts.key),
    cert: opts.cert && fs.readFileSync(opts.cert),
    configureBuckets: opts.buckets.map(name => ({ name })),
  });
  server.store.putPart = putPart;
  server.store.getObject = getObject;
  server.store.deleteObject = deleteObject;
  server.store.putObject = putObject;
  const checks = [
    multipart(server.store),
    ranges(server.store),
    copySource,
    conditionalWrites(server.store),
  ];
  if (opts.verify) checks.unshift(verifyRequests(opts));
  server.middleware.unshift(...checks);

  const { port } = await server.run();
  process.stdout.write(`READY ${port}\n`);

  const stop = () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A test script killed before it could stop us must not leave a server behind.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000).unref();
}

main().catch(err => {
  process.stderr.write(`s3rver.js: ${err.stack || err}\n`);
  process.exit(1);
});
