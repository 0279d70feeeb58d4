import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redactor } from '../../src/filter/redact.js';

// Fake credentials in the real shapes, assembled so that secret scanners do not flag this file.
const GHP = ['ghp', 'R8uXq2LmN4vB7cT1yZ0aK3eW9sD5fG6hJ2pQ'].join('_');
const GHO = ['gho', 'R8uXq2LmN4vB7cT1yZ0aK3eW9sD5fG6hJ2pQ'].join('_');
const GITHUB_PAT = ['github', 'pat', '11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF'].join('_');
const GLPAT = ['glpat', 'xR7pQ2mN9vB4cT6yZ1aK'].join('-');
const XOXB = ['xoxb', '2157301', '9932547', 'Xs2Ab4Cd6Ef8Gh0Ij2Kl4Mn6Op8'].join('-');
const GOOGLE = `AIza${'SyD9tSrke72PouQMnMXa7eZSW0jkFMBWY12'}`;
const STRIPE = ['sk', 'live', '4eC39HqLyjWDarjtT1zdp7dc'].join('_');
const NPM = ['npm', 'Q7m2Lx9Vb3Nc8Zr4Tk1Ws6Yp0Ah5Dj2Ge9Fu'].join('_');
const OPENAI = ['sk', 'proj', 'T3BlbkFJx9Y8w7V6u5T4s3R2q1P0o'].join('-');
const VAULT = `hvs.${'CAESIJx9Y8w7V6u5T4s3R2q1P0oAbCd'}`;
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSIsImV4cCI6MTcwMDAwMDAwMH0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_STS_ID = 'ASIAY34FZKBOKMUTVV7A';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const PEM_BODY =
  '\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n';
const PEM = `-----BEGIN PRIVATE KEY-----${PEM_BODY}-----END PRIVATE KEY-----\n`;
const R = '<redacted>';

/** [input argv, expected argv]. Every built-in rule appears at least once. */
const SECRET_CORPUS: ReadonlyArray<readonly [readonly string[], readonly string[]]> = [
  // Tools where -p is the password.
  [
    ['mysql', '-u', 'root', '-pS3cret'],
    ['mysql', '-u', 'root', `-p${R}`],
  ],
  [
    ['/usr/bin/mysqldump', '-h', 'db.internal', '-uroot', '-pS3cr3t!', '--single-transaction', 'shop'],
    ['/usr/bin/mysqldump', '-h', 'db.internal', '-uroot', `-p${R}`, '--single-transaction', 'shop'],
  ],
  [
    ['mysql', '--password', 'S3cret', '-h', 'db', 'shop'],
    ['mysql', '--password', R, '-h', 'db', 'shop'],
  ],
  [
    ['mysqladmin', '-uroot', '--password=S3cret', 'status'],
    ['mysqladmin', '-uroot', `--password=${R}`, 'status'],
  ],
  [
    ['docker', 'exec', '-it', 'db', 'mariadb', '-uroot', '-pS3cret', 'shop'],
    ['docker', 'exec', '-it', 'db', 'mariadb', '-uroot', `-p${R}`, 'shop'],
  ],
  [
    ['sshpass', '-p', 'hunter2', 'ssh', '-p', '2222', 'deploy@10.0.0.5'],
    ['sshpass', '-p', R, 'ssh', '-p', '2222', 'deploy@10.0.0.5'],
  ],
  [
    ['sshpass', '-phunter2', 'scp', '-P', '2222', 'backup.tar', 'deploy@host:/srv/'],
    ['sshpass', `-p${R}`, 'scp', '-P', '2222', 'backup.tar', 'deploy@host:/srv/'],
  ],
  [
    ['sudo', 'docker', 'login', '-u', 'ci', '-p', 'S3cret', 'registry.example.com'],
    ['sudo', 'docker', 'login', '-u', 'ci', '-p', R, 'registry.example.com'],
  ],
  [
    ['podman', 'login', '--username', 'ci', '--password', 'S3cret', 'quay.io'],
    ['podman', 'login', '--username', 'ci', '--password', R, 'quay.io'],
  ],
  [
    ['redis-cli', '-h', 'cache', '-a', 'S3cret', 'ping'],
    ['redis-cli', '-h', 'cache', '-a', R, 'ping'],
  ],
  [
    ['mongosh', '--host', 'db', '-u', 'admin', '-p', 'S3cret', '--authenticationDatabase', 'admin'],
    ['mongosh', '--host', 'db', '-u', 'admin', '-p', R, '--authenticationDatabase', 'admin'],
  ],
  [
    ['/opt/mssql-tools/bin/sqlcmd', '-S', 'db', '-U', 'sa', '-P', 'S3cret!', '-Q', 'select 1'],
    ['/opt/mssql-tools/bin/sqlcmd', '-S', 'db', '-U', 'sa', '-P', R, '-Q', 'select 1'],
  ],
  // curl users and headers.
  [
    ['curl', '-u', 'alice:s3cr3t', 'https://api.example.com/v1/items'],
    ['curl', '-u', `alice:${R}`, 'https://api.example.com/v1/items'],
  ],
  [
    ['curl', '--user=admin:pw', '--proxy-user', 'proxy:pp', '-x', 'http://proxy:3128', 'https://x.example'],
    ['curl', `--user=admin:${R}`, '--proxy-user', `proxy:${R}`, '-x', 'http://proxy:3128', 'https://x.example'],
  ],
  [
    ['curl', '-sS', '-H', 'Authorization: Bearer abc123.def456', 'https://api.example.com/me'],
    ['curl', '-sS', '-H', `Authorization: Bearer ${R}`, 'https://api.example.com/me'],
  ],
  [
    ['curl', '-HAuthorization: Basic YWxpY2U6czNjcjN0', '-H', 'Accept: application/json', 'https://x.example'],
    ['curl', `-HAuthorization: Basic ${R}`, '-H', 'Accept: application/json', 'https://x.example'],
  ],
  [
    ['curl', '--header', `PRIVATE-TOKEN: ${GLPAT}`, 'https://gitlab.example.com/api/v4/projects'],
    ['curl', '--header', `PRIVATE-TOKEN: ${R}`, 'https://gitlab.example.com/api/v4/projects'],
  ],
  [
    ['curl', '-H', 'X-Api-Key: k3y-0f-mine', '-d', 'user=bob&password=S3cret&remember=1', 'https://x.example/login'],
    ['curl', '-H', `X-Api-Key: ${R}`, '-d', `user=bob&password=${R}&remember=1`, 'https://x.example/login'],
  ],
  [
    ['curl', 'https://api.stripe.com/v1/charges', '-u', `${STRIPE}:`],
    ['curl', 'https://api.stripe.com/v1/charges', '-u', `${R}:`],
  ],
  // URLs with user:password@.
  [
    ['psql', 'postgresql://app:pa55w0rd@db.internal:5432/app?sslmode=require'],
    ['psql', `postgresql://app:${R}@db.internal:5432/app?sslmode=require`],
  ],
  [
    ['git', 'clone', `https://build:${GHP}@github.com/acme/app.git`],
    ['git', 'clone', `https://build:${R}@github.com/acme/app.git`],
  ],
  [
    ['git', 'push', `https://${GHP}@github.com/acme/app.git`, 'main'],
    ['git', 'push', `https://${R}@github.com/acme/app.git`, 'main'],
  ],
  [
    ['mongosh', 'mongodb+srv://admin:S3cret@cluster0.abcde.mongodb.net/test'],
    ['mongosh', `mongodb+srv://admin:${R}@cluster0.abcde.mongodb.net/test`],
  ],
  [
    ['redis-cli', '-u', 'redis://:S3cret@cache.internal:6379/0', 'info'],
    ['redis-cli', '-u', `redis://:${R}@cache.internal:6379/0`, 'info'],
  ],
  // Environment-style and key=value.
  [
    ['env', 'PGPASSWORD=pa55', 'psql', '-h', 'db', '-p', '5432', '-U', 'app'],
    ['env', `PGPASSWORD=${R}`, 'psql', '-h', 'db', '-p', '5432', '-U', 'app'],
  ],
  [
    ['env', `AWS_ACCESS_KEY_ID=${AWS_ID}`, `AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, 'AWS_REGION=eu-west-1', 'aws', 's3', 'ls'],
    ['env', `AWS_ACCESS_KEY_ID=${R}`, `AWS_SECRET_ACCESS_KEY=${R}`, 'AWS_REGION=eu-west-1', 'aws', 's3', 'ls'],
  ],
  [
    ['env', '-i', 'HOME=/root', `GITHUB_TOKEN=${GHO}`, 'MYSQL_PWD=S3cret', 'NPM_CONFIG__AUTH=dXNlcjpwdw==', 'make', 'deploy'],
    ['env', '-i', 'HOME=/root', `GITHUB_TOKEN=${R}`, `MYSQL_PWD=${R}`, `NPM_CONFIG__AUTH=${R}`, 'make', 'deploy'],
  ],
  [
    [
      'docker',
      'run',
      '-p',
      '3306:3306',
      '-e',
      'MYSQL_ROOT_PASSWORD=S3cret',
      '-e',
      'STRIPE_KEY=rk_x',
      '-e',
      'APP_SECRET_KEY_BASE=f00',
      'mysql:8',
    ],
    [
      'docker',
      'run',
      '-p',
      '3306:3306',
      '-e',
      `MYSQL_ROOT_PASSWORD=${R}`,
      '-e',
      `STRIPE_KEY=${R}`,
      '-e',
      `APP_SECRET_KEY_BASE=${R}`,
      'mysql:8',
    ],
  ],
  [
    ['kubectl', 'create', 'secret', 'generic', 'db', '--from-literal=username=app', '--from-literal=password=S3cret'],
    ['kubectl', 'create', 'secret', 'generic', 'db', '--from-literal=username=app', `--from-literal=password=${R}`],
  ],
  [
    ['java', '-Djavax.net.ssl.keyStorePassword=changeit', '-Dserver.port=8443', '-jar', 'app.jar'],
    ['java', `-Djavax.net.ssl.keyStorePassword=${R}`, '-Dserver.port=8443', '-jar', 'app.jar'],
  ],
  [
    ['terraform', 'apply', '-var', 'db_password=S3cret', '-var', 'region=eu-west-1'],
    ['terraform', 'apply', '-var', `db_password=${R}`, '-var', 'region=eu-west-1'],
  ],
  [
    ['helm', 'upgrade', '--install', 'app', './chart', '--set', 'postgresql.auth.password=S3cret'],
    ['helm', 'upgrade', '--install', 'app', './chart', '--set', `postgresql.auth.password=${R}`],
  ],
  [
    ['wget', '--user=bob', '--password=S3cret', 'https://files.example.com/a.zip'],
    ['wget', '--user=bob', `--password=${R}`, 'https://files.example.com/a.zip'],
  ],
  [
    ['curl', 'https://api.example.com/v1/search?q=x&access_token=abc123&page=2'],
    ['curl', `https://api.example.com/v1/search?q=x&access_token=${R}&page=2`],
  ],
  [
    ['azcopy', 'copy', 'https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=AbC%2Bdef%3D', '.'],
    ['azcopy', 'copy', `https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=${R}`, '.'],
  ],
  // Flags whose value is the next argument.
  [
    ['keytool', '-importkeystore', '-srckeystore', 'a.p12', '-srcstorepass', 'changeit', '-deststorepass', 'changeit'],
    ['keytool', '-importkeystore', '-srckeystore', 'a.p12', '-srcstorepass', R, '-deststorepass', R],
  ],
  [
    ['openssl', 'pkcs12', '-export', '-in', 'c.pem', '-out', 'c.p12', '-passout', 'pass:hunter2'],
    ['openssl', 'pkcs12', '-export', '-in', 'c.pem', '-out', 'c.p12', '-passout', R],
  ],
  [
    ['http', '--auth', 'bob:S3cret', 'GET', 'https://x.example'],
    ['http', '--auth', R, 'GET', 'https://x.example'],
  ],
  [
    ['openai', '--api-key', OPENAI, 'api', 'models.list'],
    ['openai', '--api-key', R, 'api', 'models.list'],
  ],
  [
    ['gh', 'api', '--client-secret', 'cs_123', '--token', 'tok', '-v'],
    ['gh', 'api', '--client-secret', R, '--token', R, '-v'],
  ],
  [
    ['aws', 'configure', 'set', 'aws_secret_access_key', AWS_SECRET, '--profile', 'prod'],
    ['aws', 'configure', 'set', 'aws_secret_access_key', R, '--profile', 'prod'],
  ],
  [
    ['npm', 'config', 'set', '//registry.npmjs.org/:_authToken', NPM],
    ['npm', 'config', 'set', '//registry.npmjs.org/:_authToken', R],
  ],
  // Key shapes, wherever they are.
  [
    ['aws-vault', 'exec', 'prod', '--', 'printenv', AWS_STS_ID],
    ['aws-vault', 'exec', 'prod', '--', 'printenv', R],
  ],
  [
    ['env', `GH_PAT=${GITHUB_PAT}`, 'gh', 'repo', 'list'],
    ['env', `GH_PAT=${R}`, 'gh', 'repo', 'list'],
  ],
  [
    ['sh', '-c', `echo ${GLPAT} | glab auth login --stdin`],
    ['sh', '-c', `echo ${R} | glab auth login --stdin`],
  ],
  [
    ['notify-slack', '--channel', '#ops', XOXB],
    ['notify-slack', '--channel', '#ops', R],
  ],
  [
    ['curl', `https://maps.googleapis.com/maps/api/geocode/json?address=Paris&key=${GOOGLE}`],
    ['curl', `https://maps.googleapis.com/maps/api/geocode/json?address=Paris&key=${R}`],
  ],
  [
    ['grpcurl', '-rpc-header', `x-session: ${JWT}`, 'api.internal:443', 'acme.Orders/List'],
    ['grpcurl', '-rpc-header', `x-session: ${R}`, 'api.internal:443', 'acme.Orders/List'],
  ],
  [
    ['vault', 'login', VAULT],
    ['vault', 'login', R],
  ],
  // Private keys and JSON.
  [
    ['sh', '-c', `printf '%s' '${PEM}' > /etc/ssl/private/app.key`],
    ['sh', '-c', `printf '%s' '-----BEGIN PRIVATE KEY-----${R}-----END PRIVATE KEY-----\n' > /etc/ssl/private/app.key`],
  ],
  [
    [
      'curl',
      '-X',
      'POST',
      '--data',
      `{"type":"service_account","project_id":"demo","private_key_id":"1a2b","private_key":${JSON.stringify(PEM)},"client_email":"ci@demo.iam.gserviceaccount.com"}`,
      'https://vault.internal/v1/gcp/config',
    ],
    [
      'curl',
      '-X',
      'POST',
      '--data',
      `{"type":"service_account","project_id":"demo","private_key_id":"1a2b","private_key":"${R}","client_email":"ci@demo.iam.gserviceaccount.com"}`,
      'https://vault.internal/v1/gcp/config',
    ],
  ],
  // A shell command in one argument.
  [
    ['bash', '-c', 'PGPASSWORD=S3cret pg_dump -h db -p 5432 -U app app > /backup/app.sql && mysql -uroot -pS3cret -e "flush logs"'],
    ['bash', '-c', `PGPASSWORD=${R} pg_dump -h db -p 5432 -U app app > /backup/app.sql && mysql -uroot -p${R} -e "flush logs"`],
  ],
];

/** Lines that look a little like secrets and must stay exactly as they are. */
const CLEAN_CORPUS: ReadonlyArray<readonly string[]> = [
  ['ssh', '-p', '2222', 'host'],
  ['mkdir', '-p', '/a/b'],
  ['grep', '-r', 'token', 'src/'],
  ['ls', '--color=auto'],
  ['git', 'commit', '-m', 'fix token parsing'],
  ['curl', 'https://example.com/a?page=2'],
  ['docker', 'run', '-e', 'NODE_ENV=production', 'img'],
  ['python3', '-m', 'http.server'],
  ['mysql', '-p', 'shop'],
  ['cp', '-p', 'a.txt', 'b.txt'],
  ['docker', 'run', '-d', '-p', '8080:80', 'nginx:1.27'],
  ['psql', '-h', 'db', '-p', '5432', '-U', 'app', 'app'],
  ['ansible-playbook', '--ask-become-pass', '-i', 'inventory', 'site.yml'],
  ['docker', 'login', '--password-stdin', '-u', 'ci', 'registry.example.com'],
  ['env', 'PWD=/home/ci', 'OLDPWD=/', 'SSH_AUTH_SOCK=/tmp/ssh-x/agent.1', 'GIT_ASKPASS=/usr/bin/ksshaskpass', 'bash'],
  ['docker', 'run', '-e', 'MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db', 'mysql:8'],
  ['curl', '-u', 'alice', 'https://x.example'],
  ['openssl', 'req', '-new', '-key', 'server.key', '-out', 'server.csr'],
  ['ssh', 'git@github.com'],
  ['git', 'log', '--pretty=format:%h:%an', '--since=2.weeks'],
  ['python3', 'train.py', '--tokenizer=bert-base', '--max_tokens=512'],
  ['kubectl', 'get', 'secret', 'db-credentials', '-o', 'jsonpath={.data.password}'],
  ['node', '--max-old-space-size=4096', 'dist/server.js'],
  ['tar', '-czf', 'backup.tgz', '--exclude=node_modules', '.'],
  ['sshpass', '-f', '/run/secrets/pw', 'ssh', '-p', '2222', 'deploy@host'],
  ['grep', '-rn', '--include=*.ts', 'password', 'src/'],
];

test('corpus: secrets are replaced and everything else is kept', () => {
  const r = new Redactor();
  assert.ok(SECRET_CORPUS.length >= 35);
  for (const [input, expected] of SECRET_CORPUS) {
    const copy = [...input];
    const out = r.redactArgv(input);
    assert.deepEqual(out, { argv: expected, redacted: true }, input.join(' '));
    assert.deepEqual(input, copy, 'the input array is not modified');
  }
});

test('corpus: non-secret lines stay unchanged, as the same array', () => {
  const r = new Redactor();
  for (const input of CLEAN_CORPUS) {
    const out = r.redactArgv(input);
    assert.equal(out.redacted, false, input.join(' '));
    assert.equal(out.argv, input, input.join(' '));
  }
});

test('one redactor serves many calls without carrying state over', () => {
  const r = new Redactor();
  // A trailing --password must not reach into the next command.
  assert.deepEqual(r.redactArgv(['tool', '--password']), { argv: ['tool', '--password'], redacted: false });
  const next = ['ssh', '-p', '22', 'host'];
  assert.equal(r.redactArgv(next).argv, next);
  assert.deepEqual(r.redactArgv(['mysql', '-pX']).argv, ['mysql', `-p${R}`]);
  assert.equal(r.redactArgv(['cp', '-pX', 'a', 'b']).redacted, false);
});

test('redactCommandLine works on joined lines and keeps spacing and quotes', () => {
  const r = new Redactor();
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['mysql  -u root   -pS3cret shop', `mysql  -u root   -p${R} shop`],
    ['curl -H Authorization: Bearer abc123 https://api.example.com', `curl -H Authorization: Bearer ${R} https://api.example.com`],
    [
      "curl -sS -H 'Authorization: token abc' -u bob:pw https://x; ssh -p 22 host",
      `curl -sS -H 'Authorization: token ${R}' -u bob:${R} https://x; ssh -p 22 host`,
    ],
    ["mysqldump -uroot -p'S3 cret' shop | gzip > shop.sql.gz", `mysqldump -uroot -p'${R}' shop | gzip > shop.sql.gz`],
    ['mysql --password "a b c" shop', `mysql --password "${R}" shop`],
    ['sshpass -p hunter2 ssh -p 2222 deploy@host', `sshpass -p ${R} ssh -p 2222 deploy@host`],
    ['docker login -p S3cret reg.io && docker run -p 80:80 app', `docker login -p ${R} reg.io && docker run -p 80:80 app`],
    ['PGPASSWORD="pa ss" psql postgres://app:pw@db/app', `PGPASSWORD="${R}" psql postgres://app:${R}@db/app`],
    [`echo ${PEM}`, `echo -----BEGIN PRIVATE KEY-----${R}-----END PRIVATE KEY-----\n`],
  ];
  for (const [line, expected] of cases) assert.deepEqual(r.redactCommandLine(line), { line: expected, redacted: true }, line);
  for (const line of ['ssh -p 2222 host', 'mkdir -p /a/b', 'grep -r token src/', "git commit -m 'fix token parsing'", '']) {
    assert.deepEqual(r.redactCommandLine(line), { line, redacted: false });
  }
});

test('user patterns: whole match without a secret group', () => {
  const r = new Redactor({ extraPatterns: ['hunter[0-9]+', '(?i)corp-[a-f0-9]{8}'] });
  assert.deepEqual(r.redactArgv(['echo', 'hunter2', 'CORP-DEADBEEF']), { argv: ['echo', R, R], redacted: true });
  assert.deepEqual(r.redactCommandLine('login hunter42 --x'), { line: `login ${R} --x`, redacted: true });
});

test('user patterns: only the group named secret', () => {
  const r = new Redactor({ extraPatterns: ['acme_(?:live|test)_(?<secret>[A-Za-z0-9]{8,})', '(?<user>\\w+)%(?<secret>\\S+)'] });
  assert.deepEqual(r.redactArgv(['deploy', '--key', 'acme_live_Zx9Qw8Er7T', 'smb', '-U', 'bob%S3cret']), {
    argv: ['deploy', '--key', `acme_live_${R}`, 'smb', '-U', `bob%${R}`],
    redacted: true,
  });
  const keep = ['deploy', 'acme_live_short'];
  assert.equal(r.redactArgv(keep).argv, keep);
});

test('user patterns that do not compile are a clear error', () => {
  assert.throws(() => new Redactor({ extraPatterns: ['ok', '('] }), {
    message: /^redaction pattern "\(" is not a valid regular expression: /,
  });
  assert.throws(() => new Redactor({ extraPatterns: [''] }), { message: 'redaction pattern "" is empty' });
});

test('custom marker', () => {
  const r = new Redactor({ marker: '***' });
  assert.deepEqual(r.redactArgv(['mysql', '-pS3cret']).argv, ['mysql', '-p***']);
  assert.equal(r.redactCommandLine('curl -u a:b x').line, 'curl -u a:*** x');
});

test('disabled: input comes back unchanged', () => {
  const r = new Redactor({ enabled: false, extraPatterns: ['hunter2'] });
  const argv = ['mysql', '-pS3cret', 'hunter2'];
  const out = r.redactArgv(argv);
  assert.equal(out.argv, argv);
  assert.equal(out.redacted, false);
  assert.deepEqual(r.redactCommandLine('mysql -pS3cret'), { line: 'mysql -pS3cret', redacted: false });
});

test('overlapping findings become one marker', () => {
  const r = new Redactor();
  // The URL rule, the GitHub shape and a user pattern all find the same password.
  const u = new Redactor({ extraPatterns: ['ghp_\\w+'] });
  const argv = ['git', 'clone', `https://ci:${GHP}@github.com/a/b`];
  assert.deepEqual(r.redactArgv(argv).argv, u.redactArgv(argv).argv);
  assert.deepEqual(u.redactArgv(argv).argv, ['git', 'clone', `https://ci:${R}@github.com/a/b`]);
});

test('large and pathological arguments stay linear', () => {
  const r = new Redactor();
  const inputs = [
    'x://'.repeat(50_000),
    `${'a-'.repeat(100_000)}:`,
    '='.repeat(200_000),
    `${'A'.repeat(200_000)}=`,
    `"${'a'.repeat(100_000)}":"${'b'.repeat(100_000)}`,
    `-----BEGIN PRIVATE KEY-----${'M'.repeat(200_000)}`,
    "'".repeat(100_000),
    'eyJ-'.repeat(50_000),
    'Authorization: Bearer x '.repeat(8_000),
    "-p 'a' ;".repeat(20_000),
  ];
  const start = process.hrtime.bigint();
  for (const s of inputs) {
    r.redactArgv(['cmd', s]);
    r.redactCommandLine(`cmd ${s} --password x`);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 2000, `took ${ms} ms`);
});
