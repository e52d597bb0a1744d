import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

// There is no docker engine here to build the image, so the Dockerfile is read as data: the runtime
// stage runs as node, keeps its state on a volume it may write, and its HEALTHCHECK asks /healthz.

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** The instructions of the last stage, continuation lines joined and comments dropped. */
function runtimeStage(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n\s*/g, ' ');
  const all = joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
  const from = all.map((i) => i.op).lastIndexOf('FROM');
  return all.slice(from);
}

const stage = runtimeStage(readFileSync(join(__dirname, '../../../Dockerfile'), 'utf8'));
const args = (op: string) => stage.filter((i) => i.op === op).map((i) => i.args);
const env = () =>
  Object.fromEntries(
    args('ENV').flatMap((a) =>
      [...a.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2]!.replace(/"/g, '')]),
    ),
  );

describe('the Dockerfile runtime stage', () => {
  it('runs as node, with the code root-owned', () => {
    expect(args('USER')).toEqual(['node']);
    expect(args('COPY').join(' ')).not.toMatch(/--chown/);
    expect(args('WORKDIR')).toEqual(['/app']);
  });

  it('keeps its state on a volume owned by node, and the embedded store there by default', () => {
    expect(args('VOLUME')).toEqual(['/var/lib/kbops']);
    expect(env().KBOPS_STATE_DIR).toBe('/var/lib/kbops');
    const user = stage.findIndex((i) => i.op === 'USER');
    const chown = stage.findIndex(
      (i) => i.op === 'RUN' && /chown node(:node)? \/var\/lib\/kbops/.test(i.args),
    );
    expect(chown).toBeGreaterThan(-1);
    expect(chown).toBeLessThan(user); // made as root, before dropping privileges
    expect(stage.findIndex((i) => i.op === 'VOLUME')).toBeGreaterThan(chown); // a volume keeps what was made before it
  });

  it("installs the lag chart's font (DejaVu Sans) as root, since the slim base has none", () => {
    const user = stage.findIndex((i) => i.op === 'USER');
    const fonts = stage.findIndex(
      (i) => i.op === 'RUN' && /apt-get install\b.*\bfonts-dejavu-core\b/.test(i.args),
    );
    expect(fonts).toBeGreaterThan(-1);
    expect(fonts).toBeLessThan(user);
    expect(stage[fonts]!.args).toMatch(/apt-get update/);
  });

  it('has a HEALTHCHECK that asks /healthz on $PORT with node (no curl in the image)', () => {
    const [hc] = args('HEALTHCHECK');
    expect(hc).toBeDefined();
    expect(hc).toMatch(/CMD \["node", "-e", /);
    expect(hc).toContain('/healthz');
    expect(hc).toContain('process.env.PORT');
    expect(hc).not.toMatch(/curl|wget|cli\/main\.js health/);
    expect(env().PORT).toBe('3000');
  });

  it('its HEALTHCHECK command exits 0 on a 200 and 1 otherwise', async () => {
    const script = JSON.parse(/CMD (\[.*\])$/.exec(args('HEALTHCHECK')[0]!)![1]!) as string[];
    let status = 200;
    const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = String((server.address() as { port: number }).port);
    try {
      const run = () =>
        new Promise<number | null>((resolve) => {
          const c = spawn(script[0]!, script.slice(1), {
            env: { ...process.env, PORT: port },
            stdio: 'ignore',
          });
          c.once('exit', (code) => resolve(code));
        });
      expect(await run()).toBe(0);
      status = 503;
      expect(await run()).toBe(1);
      expect(spawnSync(script[0]!, script.slice(1), { env: { ...process.env, PORT: '1' } }).status).toBe(1);
    } finally {
      server.close();
    }
  });
});
