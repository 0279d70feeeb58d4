/**
 * packaging/container/Dockerfile, without a Docker engine: the instructions are parsed and held
 * against the .deb layout (same /usr/lib/cnproc-otel tree from packaging/stage.sh, same command,
 * same config path), and the build stage is carried out for real: the build context that
 * Dockerfile.dockerignore lets through is copied to a scratch directory and the stage's COPY and
 * RUN instructions run there (with /src and /out mapped into it), then the result is run the way
 * ENTRYPOINT + CMD would run it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_FLAGS } from '../../src/cli/node-flags.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const DOCKERFILE = join(REPO, 'packaging/container/Dockerfile');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const APP = '/usr/lib/cnproc-otel';

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Instructions with continuations joined and comments dropped; FROM starts a new stage. */
function parseDockerfile(text: string): {
  instructions: Instruction[];
  stages: { from: string; name?: string }[];
  args: Map<string, string>;
} {
  const instructions: Instruction[] = [];
  const stages: { from: string; name?: string }[] = [];
  const args = new Map<string, string>();
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && pending === '') continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const m = /^(\w+)\s+([\s\S]*)$/.exec(full);
    assert.ok(m, `unparsed Dockerfile line: ${full}`);
    const op = (m[1] as string).toUpperCase();
    const rest = (m[2] as string).trim();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(f, `FROM ${rest}`);
      stages.push({ from: f[1] as string, ...(f[2] ? { name: f[2] } : {}) });
    }
    if (op === 'ARG') {
      const a = /^(\w+)(?:=(.*))?$/.exec(rest);
      if (a?.[2] !== undefined) args.set(a[1] as string, a[2]);
    }
    instructions.push({ op, args: rest, stage: stages.length - 1 });
  }
  return { instructions, stages, args };
}

const dockerfile = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const finalStage = dockerfile.stages.length - 1;
const buildStage = dockerfile.stages.findIndex((s) => s.name === 'build');
const inStage = (stage: number, op: string) => dockerfile.instructions.filter((i) => i.stage === stage && i.op === op);
const json = (i: Instruction | undefined) => JSON.parse((i as Instruction).args) as string[];

/** Dockerfile.dockerignore: later patterns win; "**" matches anything, "!" re-includes. */
function ignored(path: string, patterns: string[]): boolean {
  let out = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const body = negate ? p.slice(1) : p;
    const re = new RegExp(
      `^${body
        .split('**')
        .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
        .join('.*')}$`,
    );
    if (re.test(path)) out = !negate;
  }
  return out;
}

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === '.git') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full, base));
    else out.push(relative(base, full));
  }
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'cnproc-container-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('container image (Dockerfile, checked without a Docker engine)', () => {
  test('multi-stage: a build stage and a small runtime base without a shell', () => {
    assert.ok(buildStage >= 0, 'a stage named build');
    assert.ok(finalStage > buildStage, 'the runtime stage comes last');
    const runtime = (dockerfile.stages[finalStage] as { from: string }).from.replace(
      /^\$\{(\w+)\}$/,
      (_, n: string) => dockerfile.args.get(n) ?? '',
    );
    assert.match(runtime, /^gcr\.io\/distroless\/cc-debian1\d/, 'distroless glibc base (libstdc++ for node and koffi)');
    assert.equal(inStage(finalStage, 'RUN').length, 0, 'no RUN in the runtime stage (no shell there)');
  });

  test('runtime stage: the .deb layout, command and config path', () => {
    const copies = inStage(finalStage, 'COPY').map((i) => i.args);
    assert.ok(copies.includes(`--from=build /out${APP} ${APP}`), 'the staged tree, at the .deb path');
    assert.ok(copies.includes('--from=build /out/etc/cnproc-otel/config.yaml /etc/cnproc-otel/config.yaml'));
    // The Node.js flags every launcher passes (src/cli/node-flags.ts).
    assert.deepEqual(json(inStage(finalStage, 'ENTRYPOINT')[0]), [
      `${APP}/node/bin/node`,
      ...AGENT_NODE_FLAGS,
      `${APP}/dist/src/cli/main.js`,
    ]);
    assert.deepEqual(json(inStage(finalStage, 'CMD')[0]), ['--config', '/etc/cnproc-otel/config.yaml']);
    // The .deb's /usr/bin/cnproc-otel runs the same two paths with the same flags.
    const wrapper = readFileSync(join(REPO, 'packaging/deb/cnproc-otel'), 'utf8');
    assert.match(wrapper, /lib=\$\{self%\/\*\}\/\.\.\/lib\/cnproc-otel/);
    assert.ok(
      wrapper.split('\n').includes(`exec "$lib/node/bin/node" ${AGENT_NODE_FLAGS.join(' ')} "$lib/dist/src/cli/main.js" "$@"`),
      wrapper,
    );
    // The DaemonSet passes the same arguments.
    assert.match(
      readFileSync(join(REPO, 'packaging/kubernetes/daemonset.yaml'), 'utf8'),
      /args: \["--config", "\/etc\/cnproc-otel\/config\.yaml"\]/,
    );
    assert.equal(dockerfile.args.get('VERSION'), PKG.version, 'ARG VERSION is the package version');
    assert.equal(inStage(finalStage, 'USER')[0]?.args, '0:0', 'root, restricted to four capabilities by the runtime');
    assert.equal(inStage(finalStage, 'STOPSIGNAL')[0]?.args, 'SIGTERM');
    assert.equal(inStage(finalStage, 'EXPOSE')[0]?.args, '9464');
    const health = inStage(finalStage, 'HEALTHCHECK')[0]?.args ?? '';
    const probe = JSON.parse(health.slice(health.indexOf('CMD ') + 4)) as string[];
    assert.equal(probe[0], `${APP}/node/bin/node`, 'the healthcheck runs the bundled node (no shell or curl in the image)');
    assert.match(probe.join(' '), /http:\/\/127\.0\.0\.1:9464\/healthz/);
  });

  test('build stage: uses packaging/stage.sh like the .deb', () => {
    const runs = inStage(buildStage, 'RUN').map((i) => i.args);
    assert.ok(
      runs.some((r) => r.includes(`bash packaging/stage.sh /out${APP}`)),
      'stage.sh builds the tree',
    );
    assert.match(readFileSync(join(REPO, 'packaging/deb/build-deb.sh'), 'utf8'), /packaging\/stage\.sh" "\$app"/);
    assert.match(readFileSync(join(REPO, 'packaging/deb/build-deb.sh'), 'utf8'), /app=\$root\/usr\/lib\/cnproc-otel/);
  });

  test('the build stage runs on exactly the context Dockerfile.dockerignore sends, and the result runs', { timeout: 10 * 60_000 }, () => {
    const patterns = readFileSync(join(REPO, 'packaging/container/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const context = join(tmp, 'context');
    const sent = walk(REPO).filter((f) => !f.startsWith('node_modules/') && !f.startsWith('dist/') && !ignored(f, patterns));
    assert.ok(sent.includes('packaging/stage.sh') && sent.includes('package-lock.json'));
    assert.ok(!sent.some((f) => f.startsWith('test/') || f.startsWith('packaging/out/')), 'tests and build output stay out of the context');
    for (const f of sent) {
      mkdirSync(dirname(join(context, f)), { recursive: true });
      cpSync(join(REPO, f), join(context, f));
    }

    // Carry out the build stage: /src and /out live under the scratch root.
    const root = join(tmp, 'root');
    const map = (p: string) => join(root, p);
    let cwd = root;
    for (const i of dockerfile.instructions.filter((x) => x.stage === buildStage)) {
      if (i.op === 'WORKDIR') {
        cwd = map(i.args);
        mkdirSync(cwd, { recursive: true });
      } else if (i.op === 'COPY') {
        assert.ok(!i.args.startsWith('--'), `COPY flags in the build stage: ${i.args}`);
        const parts = i.args.split(/\s+/);
        const dest = parts.pop() as string;
        for (const src of parts) {
          const from = join(context, src);
          assert.ok(existsSync(from), `COPY ${src}: not in the build context (Dockerfile.dockerignore?)`);
          const to = dest.endsWith('/') ? join(cwd, dest, src.endsWith('/') ? '' : (src.split('/').pop() as string)) : join(cwd, dest);
          mkdirSync(dirname(to), { recursive: true });
          cpSync(from, to, { recursive: true });
        }
      } else if (i.op === 'RUN') {
        const cmd = i.args.replace(/(^|[\s=])\/out\//g, `$1${root}/out/`);
        const r = spawnSync('sh', ['-c', cmd], { cwd, encoding: 'utf8', timeout: 8 * 60_000 });
        assert.equal(r.status, 0, `RUN ${i.args}\n${r.stderr}`);
      }
    }
    // What the runtime stage copies exists, and runs as ENTRYPOINT + CMD would.
    for (const c of inStage(finalStage, 'COPY')) {
      const src = (c.args.split(/\s+/)[1] as string).replace(/^\/out\//, '');
      assert.ok(existsSync(join(root, 'out', src)), `COPY --from=build /out/${src}: not produced`);
    }
    const node = join(root, 'out', APP, 'node/bin/node');
    const main = join(root, 'out', APP, 'dist/src/cli/main.js');
    const version = spawnSync(node, [main, '--version'], { encoding: 'utf8' });
    assert.equal(version.stdout.trim(), `cnproc-otel ${PKG.version}`, version.stderr);
    const check = spawnSync(node, [main, '--check-config', join(root, 'out/etc/cnproc-otel/config.yaml')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.ok(existsSync(join(root, 'out', APP, 'node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node')));
  });
});
