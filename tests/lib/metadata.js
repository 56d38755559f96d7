'use strict';
// The credential services deltaglider may ask, serving their documented
// answers on 127.0.0.1 for tests:
//   EC2 IMDSv2  PUT /latest/api/token, GET /latest/meta-data/...
//   ECS         GET /ecs/creds (Authorization must match --auth), /ecs/bad
//   STS         POST / Action=AssumeRoleWithWebIdentity (token must match --token)
// Credentials are S3RVER/S3RVER (what the test s3rver accepts) with a
// session token, expiring --expires seconds from each answer.
//   node metadata.js --log FILE [--expires S] [--token T] [--auth A] [--region R]
// Prints "READY <port>"; logs "METHOD path" per request.
const http = require('http');
const fs = require('fs');

const opt = { expires: 3600, token: 'web-identity-token', auth: 'container-secret', region: 'eu-central-1' };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].slice(2)] = process.argv[i + 1];
let issued = 0;
const imdsToken = 'imds-session-token';

function creds(tokenKey) {
  issued++;
  return {
    Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: 'S3RVER', SecretAccessKey: 'S3RVER',
    [tokenKey]: `session-token-${issued}`,
    Expiration: new Date(Date.now() + Number(opt.expires) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    LastUpdated: new Date().toISOString(),
  };
}

function send(res, status, body, type = 'text/plain') {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    fs.appendFileSync(opt.log, `${req.method} ${req.url}\n`);
    const url = req.url;
    if (req.method === 'PUT' && url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return send(res, 400, 'missing TTL');
      return send(res, 200, imdsToken);
    }
    if (url.startsWith('/latest/')) {
      if (req.headers['x-aws-ec2-metadata-token'] !== imdsToken) return send(res, 401, 'Unauthorized');
      if (url === '/latest/meta-data/iam/security-credentials/') return send(res, 200, 'test-role');
      if (url === '/latest/meta-data/iam/security-credentials/test-role')
        return send(res, 200, JSON.stringify(creds('Token')), 'application/json');
      if (url === '/latest/meta-data/placement/region') return send(res, 200, opt.region);
      if (url === '/latest/meta-data/placement/availability-zone') return send(res, 200, opt.region + 'a');
      return send(res, 404, 'Not Found');
    }
    if (url === '/ecs/creds') {
      if (req.headers.authorization !== opt.auth) return send(res, 401, 'Unauthorized');
      return send(res, 200, JSON.stringify(creds('Token')), 'application/json');
    }
    if (url === '/ecs/bad') {
      const c = creds('Token');
      c.AccessKeyId = 'has spaces';
      return send(res, 200, JSON.stringify(c), 'application/json');
    }
    if (req.method === 'POST' && url === '/') {
      const form = new URLSearchParams(body);
      if (form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15')
        return send(res, 400, '<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>');
      if (form.get('WebIdentityToken') !== opt.token || !form.get('RoleArn') || !form.get('RoleSessionName'))
        return send(res, 400, '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>' +
          '<Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>The token is not valid</Message>' +
          '</Error></ErrorResponse>', 'text/xml');
      const c = creds('SessionToken');
      return send(res, 200, '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' +
        '<AssumeRoleWithWebIdentityResult><Credentials>' +
        `<AccessKeyId>${c.AccessKeyId}</AccessKeyId><SecretAccessKey>${c.SecretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${c.SessionToken}</SessionToken><Expiration>${c.Expiration}</Expiration>` +
        '</Credentials><SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>' +
        '</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>', 'text/xml');
    }
    return send(res, 404, 'Not Found');
  });
}).listen(0, '127.0.0.1', function () {
  process.stdout.write(`READY ${this.address().port}\n`);
});
// Exit with the test that started us.
setInterval(() => { try { process.kill(process.ppid, 0); } catch (e) { process.exit(0); } }, 1000);
